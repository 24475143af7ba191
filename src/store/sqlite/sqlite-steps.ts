import type BetterSqlite3 from 'better-sqlite3'
import { LeaseLostError, type NewExecution, type StepWrite } from '../store.js'
import {
  binder,
  CONSUME_COLUMNS,
  EVENT_COLUMNS,
  EXECUTION_CREATE_COLUMNS,
  EXECUTION_STATE_COLUMNS,
  RUN_END_COLUMNS,
  RUN_INTERRUPT_COLUMNS,
  RUN_PARK_COLUMNS,
  RUN_START_COLUMNS,
  runItems,
  STEP_WAKE_AT,
  stepWakeInputs,
  wakeAtExpression,
  type Column,
  type RunItem,
} from '../sql/columns.js'
import type { StepOutcome } from '../sql/group-commit.js'
import { creationRefused } from '../creation-refused.js'

const names = <T>(columns: readonly Column<T>[]): string[] => columns.map((c) => c.name)
const insertSql = (table: string, columns: readonly string[], verb = 'insert'): string =>
  `${verb} into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`
const UNFINISHED = `status in ('pending', 'running')`

/**
 * The step statements of the SQLite store, built from the column registry and prepared once,
 * and the function that applies a batch of steps in one transaction.
 */
export function prepareSqliteSteps(database: BetterSqlite3.Database): { commit: (steps: readonly StepWrite[]) => StepOutcome[] } {
  const stateColumns = EXECUTION_STATE_COLUMNS.filter((c) => c.name !== 'input')
  const createColumns = [...names(EXECUTION_CREATE_COLUMNS), ...names(stateColumns)]
  const insertExecution = database.prepare(insertSql('executions', createColumns))
  const bindCreate = binder<StepWrite>(createColumns, stateColumns, Object.fromEntries(EXECUTION_CREATE_COLUMNS.map((c) => [c.name, (w: StepWrite) => c.get(w.create as NewExecution)])))

  const assign = (c: Column<StepWrite>): string =>
    c.name === 'wake_at' ? `wake_at = ${STEP_WAKE_AT('?', '?', '?')}` : c.keepWhenNull === true ? `${c.name} = coalesce(?, ${c.name})` : `${c.name} = ?`
  const assignments = EXECUTION_STATE_COLUMNS.map(assign).join(', ')
  const updateExecution = database.prepare(`update executions set ${assignments} where id = ? and lease_owner = ?`)
  const takeoverExecution = database.prepare(`update executions set ${assignments} where id = ? and lease_owner is null`)
  const stateOrder = names(EXECUTION_STATE_COLUMNS).flatMap((n) => (n === 'wake_at' ? ['poke_seen', 'woken_wake_at', 'wake_at'] : [n]))
  const bindState = binder<StepWrite>(stateOrder, EXECUTION_STATE_COLUMNS, stepWakeInputs)

  const childColumns = [...names(EXECUTION_CREATE_COLUMNS), 'status', 'updated_at', 'wake_at']
  const insertChild = database.prepare(insertSql('executions', childColumns, 'insert or ignore'))
  const bindChild = binder<NewExecution>(childColumns, EXECUTION_CREATE_COLUMNS, { status: () => 'pending', updated_at: (c) => c.createdAt, wake_at: (c) => c.createdAt })

  const startRun = database.prepare(insertSql('task_runs', names(RUN_START_COLUMNS)))
  const bindStart = binder(names(RUN_START_COLUMNS), RUN_START_COLUMNS)
  const endNames = names(RUN_END_COLUMNS).filter((n) => n !== 'execution_id' && n !== 'seq')
  const endRun = database.prepare(`update task_runs set ${endNames.map((n) => `${n} = ?`).join(', ')}, waiting_for = null where execution_id = ? and seq = ?`)
  const bindEnd = binder<RunItem<'end'>>([...endNames, 'execution_id', 'seq'], RUN_END_COLUMNS)
  const parkRun = database.prepare(`update task_runs set status = 'waiting', waiting_for = ? where execution_id = ? and seq = ?`)
  const bindPark = binder<RunItem<'park'>>(['waiting_for', 'execution_id', 'seq'], RUN_PARK_COLUMNS)
  const interruptRun = database.prepare(`update task_runs set status = 'interrupted', finished_at = ?, waiting_for = null where execution_id = ? and seq = ?`)
  const bindInterrupt = binder<RunItem<'interrupt'>>(['finished_at', 'execution_id', 'seq'], RUN_INTERRUPT_COLUMNS)
  const insertEvents = database.prepare(insertSql('execution_events', names(EVENT_COLUMNS)))
  const bindEvents = binder(names(EVENT_COLUMNS), EVENT_COLUMNS)
  const consume = database.prepare(`update signals set consumed_by = ? where execution_id = ? and seq = ? and consumed_by is null`)
  const bindConsume = binder(['consumed_by', 'execution_id', 'seq'], CONSUME_COLUMNS)
  const cancelChild = database.prepare(`update executions set cancel_requested = 1, poke = poke + 1, wake_at = ${wakeAtExpression('?')} where id = ? and ${UNFINISHED}`)
  const wakeParent = database.prepare(`update executions set poke = poke + 1, wake_at = ${wakeAtExpression('?')} where id = ? and ${UNFINISHED}`)

  /** Applies one step; the execution row goes first so that a fenced-out step writes nothing. */
  const apply = (w: StepWrite): StepOutcome => {
    if (w.create !== undefined) {
      // A taken id or key fails this statement alone; the transaction and the other steps go on.
      try {
        insertExecution.run(bindCreate(w))
      } catch (error) {
        const taken = takenBy(error)
        if (taken === undefined) throw error
        return creationRefused(w.create, taken)
      }
    }
    const fence = w.create !== undefined ? undefined : w.takeover === true ? takeoverExecution.run(...bindState(w), w.executionId) : updateExecution.run(...bindState(w), w.executionId, w.owner)
    if (fence !== undefined && fence.changes === 0) return new LeaseLostError(w.executionId)
    const runs = runItems([w])
    for (const item of runs.interrupts) interruptRun.run(bindInterrupt(item))
    for (const item of runs.ends) endRun.run(bindEnd(item))
    for (const item of runs.parks) parkRun.run(bindPark(item))
    for (const item of runs.starts) startRun.run(bindStart(item))
    if (w.events.length > 0) insertEvents.run(bindEvents(w))
    for (const child of w.children ?? []) insertChild.run(bindChild(child))
    for (const child of w.cancelChildren ?? []) cancelChild.run(w.state.updatedAt, w.state.updatedAt, child)
    for (const c of w.consumeSignals ?? []) consume.run(bindConsume({ w, signalSeq: c.signalSeq, runSeq: c.runSeq }))
    if (w.wakeParent !== undefined) wakeParent.run(w.state.updatedAt, w.state.updatedAt, w.wakeParent)
    return true
  }
  const applyAll = database.transaction((batch: readonly StepWrite[]) => batch.map(apply))
  return { commit: (steps) => applyAll(steps) }
}

/** Which unique column of `executions` an insert collided on, if that is why it failed. */
function takenBy(error: unknown): 'key' | 'id' | undefined {
  const { code, message } = error as { code?: unknown; message?: unknown }
  if (typeof message !== 'string' || (code !== 'SQLITE_CONSTRAINT_UNIQUE' && code !== 'SQLITE_CONSTRAINT_PRIMARYKEY')) return undefined
  if (message.includes('executions.idempotency_key')) return 'key'
  return message.includes('executions.id') ? 'id' : undefined
}
