import { join } from 'node:path'
import { builtinTasks, createEngine, createTaskRegistry, openSqliteStore, type Flow } from '../src/index.js'
import { prepareSqliteSteps } from '../src/store/sqlite/sqlite-steps.js'
import type { StepWrite } from '../src/store/store.js'
import { diskWrites, now, type DurableRate } from './bench-kit.js'

/**
 * The steps the engine writes for one execution of `flow`, exactly as it hands them to the store:
 * one execution run in-process on a SQLite store whose writes are copied on their way in.
 */
export async function captureSteps(dir: string, flow: Flow): Promise<StepWrite[]> {
  const store = await openSqliteStore({ path: join(dir, 'capture.db') })
  const steps: StepWrite[] = []
  const recording = { ...store, write: (step: StepWrite) => (steps.push(structuredClone(step)), store.write(step)) }
  const engine = createEngine({ store: recording, tasks: createTaskRegistry(builtinTasks) })
  try {
    await engine.registerFlow(flow)
    const { execution } = await engine.run({ flowId: flow.id })
    if (execution.status !== 'completed') throw new Error(`the captured execution ended ${execution.status}`)
    return steps
  } finally {
    await engine.close()
    await store.close()
  }
}

/** The captured steps for `executions` executions, as another execution id each; step k of every execution before step k + 1 of any. */
function replayOrder(template: readonly StepWrite[], executions: number): StepWrite[] {
  const ids = Array.from({ length: executions }, (_, e) => `raw-${e}`)
  const order: StepWrite[] = []
  for (const step of template) {
    for (const id of ids) order.push({ ...step, executionId: id, ...(step.create === undefined ? {} : { create: { ...step.create, id } }) })
  }
  return order
}

/**
 * Transitions per second of the SQLite store's own step statements (prepareSqliteSteps, the code
 * the engine's group commit calls) writing the engine's captured steps for `executions`
 * executions, `perTx` steps per transaction, on a file with the store's settings
 * (WAL, synchronous=FULL). Nothing of the engine runs: the steps are built before the clock starts.
 * A flow of n tasks is n transitions in n + 1 steps (the first step creates the execution), as the
 * engine's figure counts them. Storage writes include SQLite's checkpoints of the WAL into the file.
 */
export async function rawSameRows(path: string, template: readonly StepWrite[], executions: number, perTx: number): Promise<DurableRate> {
  const store = await openSqliteStore({ path })
  try {
    const { commit } = prepareSqliteSteps(store.database)
    const steps = replayOrder(template, executions)
    const transitions = (template.length - 1) * executions
    const written = diskWrites()
    const t0 = now()
    for (let i = 0; i < steps.length; i += perTx) {
      const outcomes = commit(steps.slice(i, i + perTx))
      const refused = outcomes.find((o) => o !== true)
      if (refused !== undefined) throw new Error(`a replayed step was refused: ${refused.message}`)
    }
    return { perSecond: transitions / ((now() - t0) / 1000), bytesPerTransition: (diskWrites() - written) / transitions }
  } finally {
    await store.close()
  }
}

/**
 * Transitions per second of the least a durable transition could write: one task-run row inserted
 * and one execution row updated, for `executions` executions of `tasks` transitions each in the
 * replay's order, `perTx` transitions per transaction, same schema and settings.
 */
export async function rawMinimalRows(path: string, executions: number, tasks: number, perTx: number): Promise<DurableRate> {
  const store = await openSqliteStore({ path })
  try {
    const db = store.database
    const insertExecution = db.prepare(`insert into executions (id, flow_id, definition_hash, status, input, created_at, updated_at) values (?, 'raw', 'raw', 'running', '{}', 0, 0)`)
    for (let e = 0; e < executions; e++) insertExecution.run(`raw-${e}`)
    const insertRun = db.prepare(`insert into task_runs (execution_id, seq, task_name, task_type, attempt, status, started_at) values (?, ?, 't', 'noop', 1, 'success', ?)`)
    const updateExecution = db.prepare(`update executions set steps = ?, updated_at = ? where id = ?`)
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const id = `raw-${i % executions}`
        const seq = Math.floor(i / executions) + 1
        insertRun.run(id, seq, Date.now())
        updateExecution.run(seq, Date.now(), id)
      }
    })
    const transitions = executions * tasks
    const written = diskWrites()
    const t0 = now()
    for (let i = 0; i < transitions; i += perTx) batch(i, Math.min(transitions, i + perTx))
    return { perSecond: transitions / ((now() - t0) / 1000), bytesPerTransition: (diskWrites() - written) / transitions }
  } finally {
    await store.close()
  }
}
