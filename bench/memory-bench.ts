import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { builtinTasks, createEngine, createTaskRegistry, openSqliteStore } from '../src/index.js'
import { gc, withTempDir, type BenchOptions, type BenchRow } from './bench-kit.js'

/** Peak memory while 10,000 executions of the sample flow run at once, recorded in SQLite. */
export function memoryBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const count = quick ? 1000 : 10_000
  return withTempDir(async (dir) => {
    const store = await openSqliteStore({ path: join(dir, 'memory.db') })
    const engine = createEngine({ store, maxConcurrent: count, tasks: createTaskRegistry(builtinTasks) })
    const seed = JSON.parse(readFileSync(new URL('../examples/seed-flow.json', import.meta.url), 'utf8')) as unknown
    await engine.run({ flow: seed })
    gc()
    const before = process.memoryUsage()
    let peakRss = before.rss
    let peakHeap = before.heapUsed
    const sample = setInterval(() => {
      const m = process.memoryUsage()
      peakRss = Math.max(peakRss, m.rss)
      peakHeap = Math.max(peakHeap, m.heapUsed)
    }, 5)
    const results = await Promise.all(Array.from({ length: count }, () => engine.run({ flow: seed })))
    clearInterval(sample)
    const m = process.memoryUsage()
    peakRss = Math.max(peakRss, m.rss)
    peakHeap = Math.max(peakHeap, m.heapUsed)
    if (results.some((r) => r.execution.status !== 'completed')) throw new Error('a sample execution did not complete')
    await engine.close()
    await store.close()
    const mb = (bytes: number): number => bytes / 1024 / 1024
    return [
      {
        name: `peak heap growth, ${count.toLocaleString('en')} sample executions at once (${((peakHeap - before.heapUsed) / count / 1024).toFixed(1)} KiB each)`,
        value: mb(peakHeap - before.heapUsed),
        unit: 'MiB',
        baseline: { name: 'heap before', value: mb(before.heapUsed) },
        better: 'lower',
      },
      {
        name: `peak RSS, ${count.toLocaleString('en')} sample executions at once`,
        value: mb(peakRss),
        unit: 'MiB',
        baseline: { name: 'RSS before', value: mb(before.rss) },
        better: 'lower',
      },
    ]
  })
}
