import { join } from 'node:path'
import { createEngine, createTaskRegistry, defineTask, openSqliteStore } from '../src/index.js'
import { chainFlow, now, withTempDir, type BenchOptions, type BenchRow } from './bench-kit.js'

const TASKS = 10

/**
 * Raw better-sqlite3 writes of the rows one transition writes (finish a task run, update the
 * execution, start the next run, append the step's events), with the same durability, one transaction per transition or
 * `perTx` transitions per transaction. Returns transitions per second.
 */
async function rawRate(path: string, transitions: number, perTx: number): Promise<number> {
  const store = await openSqliteStore({ path })
  const db = store.database
  const insertExecution = db.prepare(
    `insert into executions (id, flow_id, definition_hash, status, input, steps, step_base, created_at, updated_at) values (?, 'raw', 'raw', 'running', '{}', 0, 0, 0, 0)`,
  )
  const finish = db.prepare(`update task_runs set status = 'success', data = null, error = null, finished_at = ?, duration_ms = 0.01, next_task = ? where execution_id = ? and seq = ?`)
  // Every state column, as the engine writes them, so that the rows are the same.
  const update = db.prepare(
    `update executions set status = 'running', current_task = ?, steps = ?, step_base = 0, failed_task = null, error = null, started_at = 1, finished_at = null, updated_at = ? where id = ?`,
  )
  const start = db.prepare(`insert into task_runs (execution_id, seq, task_name, task_type, attempt, status, started_at) values (?, ?, ?, 'nop', 1, 'running', ?)`)
  // The step's row of the event log, as the engine writes it (task_finished, routed, task_started).
  const events = db.prepare(`insert into execution_events (execution_id, seq, last_seq, at, events) values (?, ?, ?, ?, ?)`)
  const eventsOf = (seq: number, at: number): string =>
    JSON.stringify([
      [3 * seq, 'task_finished', at, `t${seq - 1}`, { seq, status: 'success', duration_ms: 0.01, error: null, error_code: null, next_task: `t${seq}` }],
      [3 * seq + 1, 'routed', at, `t${seq - 1}`, { to: `t${seq}`, condition: `c${seq - 1}` }],
      [3 * seq + 2, 'task_started', at, `t${seq}`, { seq: seq + 1, task_type: 'nop', attempt: 1, step: seq + 1 }],
    ])
  const executions = Math.ceil(transitions / TASKS)
  for (let e = 0; e < executions; e++) {
    insertExecution.run(`e${e}`)
    start.run(`e${e}`, 1, 't0', 0)
  }
  const step = (i: number): void => {
    const id = `e${i % executions}`
    const seq = Math.floor(i / executions) + 1
    finish.run(Date.now(), `t${seq}`, id, seq)
    update.run(`t${seq}`, seq + 1, Date.now(), id)
    start.run(id, seq + 1, `t${seq}`, Date.now())
    const at = Date.now()
    events.run(id, 3 * seq, 3 * seq + 2, at, eventsOf(seq, at))
  }
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) step(i)
  })
  const t0 = now()
  for (let i = 0; i < transitions; i += perTx) batch(i, Math.min(transitions, i + perTx))
  const rate = transitions / ((now() - t0) / 1000)
  await store.close()
  return rate
}

/** Recorded transitions per second with `inFlight` executions of a 10-task no-op chain at once. */
async function engineRate(path: string, inFlight: number, rounds: number): Promise<number> {
  const store = await openSqliteStore({ path })
  // Every execution runs at once: this measures group commit, not the queue.
  const engine = createEngine({ store, maxConcurrent: inFlight, tasks: createTaskRegistry([defineTask({ name: 'nop', description: 'no-op', run: () => undefined })]) })
  await engine.registerFlow(chainFlow(TASKS, 'nop', 'bench'))
  const round = (): Promise<unknown> => Promise.all(Array.from({ length: inFlight }, () => engine.run({ flowId: 'bench' })))
  await round()
  const t0 = now()
  for (let r = 0; r < rounds; r++) await round()
  const rate = (inFlight * rounds * TASKS) / ((now() - t0) / 1000)
  await engine.close()
  await store.close()
  return rate
}

export async function sqliteBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  return withTempDir(async (dir) => {
    const single = await rawRate(join(dir, 'raw-single.db'), quick ? 500 : 5000, 1)
    const batched = await rawRate(join(dir, 'raw-batched.db'), quick ? 10_000 : 100_000, 100)
    const ours1 = await engineRate(join(dir, 'engine-1.db'), 1, quick ? 20 : 200)
    const ours1000 = await engineRate(join(dir, 'engine-1000.db'), 1000, quick ? 1 : 5)
    return [
      {
        name: 'durable transitions/s, SQLite FULL, 1 execution at a time',
        value: ours1,
        unit: '/s',
        baseline: { name: 'raw writes of the same rows, 1 transition per commit', value: single },
        better: 'higher',
        goal: '>= 0.5x raw',
      },
      {
        name: 'durable transitions/s, SQLite FULL, 1,000 executions in flight',
        value: ours1000,
        unit: '/s',
        baseline: { name: 'raw writes of the same rows, 100 transitions per commit', value: batched },
        better: 'higher',
        goal: '>= 0.5x raw batched',
      },
    ]
  })
}
