import { join } from 'node:path'
import { builtinTasks, createEngine, createTaskRegistry, defineTask, openSqliteStore, type Flow } from '../src/index.js'
import { gc, seedDocument, withTempDir, type BenchOptions, type BenchRow } from './bench-kit.js'

const KiB = 1024
const MiB = 1024 * 1024

/** Holds the task runs that reach it until released; says when `expected` of them are there. */
function gate(expected: number): { arrive: () => Promise<void>; full: Promise<void>; release: () => void } {
  let release = (): void => undefined
  let arrivedAll = (): void => undefined
  const opened = new Promise<void>((resolve) => (release = resolve))
  const full = new Promise<void>((resolve) => (arrivedAll = resolve))
  let arrived = 0
  return {
    arrive: () => {
      if (++arrived === expected) arrivedAll()
      return opened
    },
    full,
    release: () => release(),
  }
}

/** The seed flow with its middle task held at a gate, so that every execution is in flight at once, at a known point. */
function gatedSeed(): Flow {
  const { flow } = seedDocument()
  return { ...flow, id: 'gated-seed', tasks: flow.tasks.map((t) => (t.name === 'task2' ? { ...t, type: 'gate' } : t)) }
}

/**
 * Memory per execution in flight, recorded in SQLite: `count` executions of the seed flow are
 * started at once and held in their second task (the first one's result recorded, the third to
 * come). With all of them there, garbage is collected and the heap compared with the heap before
 * they started: what each in-flight execution keeps. Then they run to the end, and the peak heap
 * and RSS seen meanwhile (every 5 ms, garbage included) say what a burst costs.
 * Needs node --expose-gc (npm run bench passes it); without it garbage counts too.
 */
export function memoryBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const count = quick ? 1000 : 10_000
  return withTempDir(async (dir) => {
    let current = gate(1)
    // task2 itself once released, so that the executions store what the seed flow's would.
    const task2 = builtinTasks.find((t) => t.name === 'task2')!
    const gateTask = defineTask({ name: 'gate', description: 'waits for the benchmark, then does task2', run: (input, context) => current.arrive().then(() => task2.run(input, context)) })
    const store = await openSqliteStore({ path: join(dir, 'memory.db') })
    const engine = createEngine({ store, maxConcurrent: count, tasks: createTaskRegistry([...builtinTasks, gateTask]) })
    try {
      const flow = gatedSeed()
      await engine.registerFlow(flow)
      // One execution first, so that code and caches loaded once are not counted per execution.
      const warm = engine.run({ flowId: flow.id })
      await current.full
      current.release()
      await warm

      current = gate(count)
      gc()
      gc()
      const before = process.memoryUsage()
      let peakRss = before.rss
      let peakHeap = before.heapUsed
      const sample = (): void => {
        const m = process.memoryUsage()
        peakRss = Math.max(peakRss, m.rss)
        peakHeap = Math.max(peakHeap, m.heapUsed)
      }
      const sampler = setInterval(sample, 5)
      const runs = Array.from({ length: count }, () => engine.run({ flowId: flow.id }))
      await current.full
      sample()
      gc()
      gc()
      const held = process.memoryUsage().heapUsed
      current.release()
      const results = await Promise.all(runs)
      clearInterval(sampler)
      sample()
      if (results.some((r) => r.execution.status !== 'completed')) throw new Error('a sample execution did not complete')
      const n = count.toLocaleString('en')
      return [
        { name: `heap per execution in flight, ${n} executions of the seed flow held at once (after GC)`, value: (held - before.heapUsed) / count / KiB, unit: 'KiB', better: 'lower', goal: '< 20 KiB' },
        { name: `peak heap growth per execution while ${n} run at once (garbage included)`, value: (peakHeap - before.heapUsed) / count / KiB, unit: 'KiB', better: 'lower' },
        { name: `peak RSS, ${n} executions at once`, value: peakRss / MiB, unit: 'MiB', baseline: { name: 'RSS before', value: before.rss / MiB }, better: 'lower' },
      ]
    } finally {
      current.release()
      await engine.close()
      await store.close()
    }
  })
}
