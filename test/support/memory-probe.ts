/**
 * Run with `node --expose-gc --import tsx test/support/memory-probe.ts DIR`: one execution loops
 * a ⇄ b for 1,000 steps, `a` returning 100 kB of fresh data each time, and `b` measuring the heap
 * after a full collection. Prints the measurements (heap used, in bytes, by step) as JSON.
 */
import { join } from 'node:path'
import { builtinTasks, createEngine, createTaskRegistry, defineTask, openSqliteStore } from '../../src/index.js'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')
const dir = process.argv[2]
if (dir === undefined) throw new Error('usage: memory-probe.ts DIR')

const STEPS = 1000
const samples: { step: number; heapUsed: number }[] = []
let step = 0
const fat = defineTask({ name: 'fat', description: '100 kB of new data', run: () => ({ text: `${++step}:`.padEnd(100_000, 'x') }) })
const measure = defineTask({
  name: 'measure',
  description: 'Heap used after a full collection, now and then',
  run: () => {
    step++
    if (step % 100 === 0) {
      gc()
      samples.push({ step, heapUsed: process.memoryUsage().heapUsed })
    }
    return null
  },
})

const store = await openSqliteStore({ path: join(dir, 'memory.db'), synchronous: 'NORMAL' })
const engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, fat, measure]), storageLimit: 1024 * 1024 * 1024 })
const detail = await engine.run({
  flow: {
    id: 'fat-loop',
    name: 'a ⇄ b',
    start_task: 'a',
    max_steps: STEPS,
    tasks: [{ name: 'a', type: 'fat' }, { name: 'b', type: 'measure' }],
    conditions: [
      { name: 'ab', source_task: 'a', outcome: 'success', target_task_success: 'b', target_task_failure: 'b' },
      { name: 'ba', source_task: 'b', outcome: 'success', target_task_success: 'a', target_task_failure: 'a' },
    ],
  },
})
await engine.close()
await store.close()
process.stdout.write(`${JSON.stringify({ status: detail.execution.status, code: detail.execution.error?.code ?? null, runs: detail.totalRuns ?? detail.runs.length, samples })}\n`)
