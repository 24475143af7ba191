import { join } from 'node:path'
import { createEngine, createMemoryStore, createTaskRegistry, builtinTasks, defineTask, openSqliteStore, type Engine, type Flow, type Store } from '../src/index.js'
import { chainFlow, gc, now, percentile, withTempDir, type BenchOptions, type BenchRow } from './bench-kit.js'

const nop = defineTask({ name: 'nop', description: 'no-op', run: () => undefined })
const tasks = createTaskRegistry([...builtinTasks, nop])

/** A parallel group of `n` no-op branches, one task each. */
function groupFlow(n: number): Flow {
  const branches = Array.from({ length: n }, (_, i) => ({ name: `b${i}`, type: 'nop' }))
  return { id: `group-${n}`, name: `group of ${n}`, start_task: 'fan', tasks: [{ name: 'fan', parallel: branches.map((b) => b.name) }, ...branches], conditions: [] }
}

function forEachFlow(concurrency: number): Flow {
  return { id: 'each', name: 'for_each', start_task: 'each', tasks: [{ name: 'each', type: 'nop', for_each: 'input.items', max_concurrency: concurrency, input: { n: '${item}' } }], conditions: [] }
}

/** Transitions (task runs) per second running `count` executions of a flow, one after another. */
async function rate(engine: Engine, flowId: string, count: number, runsPer: number, input?: unknown): Promise<number> {
  await engine.run({ flowId }, input === undefined ? {} : { input })
  const t0 = now()
  for (let i = 0; i < count; i++) await engine.run({ flowId }, input === undefined ? {} : { input })
  return (count * runsPer) / ((now() - t0) / 1000)
}

async function groupRows(label: string, open: () => Promise<Store>, quick: boolean): Promise<BenchRow[]> {
  const store = await open()
  const engine = createEngine({ store, tasks, maxConcurrent: Infinity })
  try {
    await engine.registerFlow(chainFlow(100, 'nop', 'chain'))
    await engine.registerFlow(groupFlow(100))
    const count = quick ? 5 : 100
    const sequential = await rate(engine, 'chain', count, 100)
    // The group's own run is a task run too.
    const group = await rate(engine, 'group-100', count, 101)
    return [
      {
        name: `transitions/s, a parallel group of 100 no-op branches, ${label}`,
        value: group,
        unit: '/s',
        baseline: { name: 'a sequential chain of 100 no-ops, same store', value: sequential },
        better: 'higher',
        goal: '≥ 0.8× sequential',
      },
    ]
  } finally {
    await engine.close()
    await store.close()
  }
}

async function forEachRow(dir: string, quick: boolean): Promise<BenchRow> {
  const store = await openSqliteStore({ path: join(dir, 'each.db') })
  const engine = createEngine({ store, tasks, maxConcurrent: Infinity })
  try {
    await engine.registerFlow(chainFlow(100, 'nop', 'chain'))
    await engine.registerFlow(forEachFlow(100))
    const items = Array.from({ length: quick ? 1000 : 10_000 }, (_, i) => i)
    const sequential = await rate(engine, 'chain', quick ? 10 : 100, 100)
    const each = await rate(engine, 'each', 1, items.length + 1, { items })
    return {
      name: `transitions/s, for_each over ${items.length.toLocaleString('en')} items, max_concurrency 100, SQLite`,
      value: each,
      unit: '/s',
      baseline: { name: 'a sequential chain of 100 no-ops, same store', value: sequential },
      better: 'higher',
    }
  } finally {
    await engine.close()
    await store.close()
  }
}

/**
 * Many executions parked on a durable `wait`: what they cost the process while they wait (nothing
 * is held per execution), and how late they fire once their moment has come, beside as many plain
 * no-op executions run to their end.
 */
async function parkedRows(dir: string, quick: boolean): Promise<BenchRow[]> {
  const count = quick ? 1000 : 10_000
  const store = await openSqliteStore({ path: join(dir, 'parked.db') })
  const engine = createEngine({ store, tasks, maxConcurrent: 256, pollMs: 200 })
  try {
    engine.startWorker()
    const waitMs = quick ? 1500 : 5000
    const parked: Flow = { id: 'parked', name: 'parked', start_task: 'w', tasks: [{ name: 'w', type: 'wait', input: { ms: waitMs } }], conditions: [] }
    const plain: Flow = { id: 'plain', name: 'plain', start_task: 'n', tasks: [{ name: 'n', type: 'nop' }], conditions: [] }
    await engine.registerFlow(parked)
    await engine.registerFlow(plain)
    gc()
    const heapBefore = process.memoryUsage().heapUsed
    const t0 = now()
    const started = []
    for (let i = 0; i < count; i++) started.push(await engine.start({ flowId: 'parked' }))
    const due = Date.now() + waitMs
    gc()
    const heapParked = process.memoryUsage().heapUsed - heapBefore
    const parkedAtOnce = engine.running
    await Promise.all(started.map((s) => s.done))
    const lateMs = Date.now() - due
    void t0
    // How late each one fired: its wait run recorded as ended, after the moment it was to end.
    const late = (store.database.prepare(`select finished_at - started_at - ? as late from task_runs where task_name = 'w'`).all(waitMs) as { late: number }[])
      .map((r) => r.late)
      .sort((a, b) => a - b)
    gc()
    const heapBeforePlain = process.memoryUsage().heapUsed
    const t1 = now()
    await Promise.all(Array.from({ length: count }, () => engine.run({ flowId: 'plain' })))
    const plainMs = now() - t1
    const heapPlain = process.memoryUsage().heapUsed - heapBeforePlain
    return [
      {
        name: `heap held by ${count.toLocaleString('en')} executions parked on a wait (${parkedAtOnce} running meanwhile)`,
        value: Math.max(0, heapParked) / 1024 / 1024,
        unit: 'MiB',
        baseline: { name: `after ${count.toLocaleString('en')} no-op executions ran`, value: Math.max(0, heapPlain) / 1024 / 1024 },
        better: 'lower',
        goal: 'nothing held per parked execution',
      },
      {
        name: `time for ${count.toLocaleString('en')} parked executions to all finish after their moment`,
        value: lateMs,
        unit: 'ms',
        baseline: { name: `${count.toLocaleString('en')} no-op executions run to their end`, value: plainMs },
        better: 'lower',
      },
      ...(['p50', 'p99', 'max'] as const).map((which) => ({
        name: `how late each of ${count.toLocaleString('en')} parked executions fired after its moment, ${which}`,
        value: which === 'max' ? (late.at(-1) ?? Number.NaN) : percentile(late, which === 'p50' ? 50 : 99),
        unit: 'ms',
        better: 'lower' as const,
        ...(which === 'max' ? { goal: 'each fires within a second of its time' } : {}),
      })),
    ]
  } finally {
    await engine.close()
    await store.close()
  }
}

/** Issue 10's and 11's rows: branches, fan-out and parked executions, each beside a same-run baseline. */
export async function orchestrationBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  return withTempDir(async (dir) => [
    ...(await groupRows('memory store', () => Promise.resolve(createMemoryStore()), quick)),
    ...(await groupRows('SQLite FULL', () => openSqliteStore({ path: join(dir, 'group.db') }), quick)),
    await forEachRow(dir, quick),
    ...(await parkedRows(dir, quick)),
  ])
}
