import type { NewExecution, StepWrite } from '../store.js'
import { WORK_CHANNEL } from './work-listener.js'
import {
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
  type ConsumeItem,
} from '../sql/columns.js'

/** One set of parallel arrays, unnested into rows by the statement: one array per column. */
interface ArrayGroup<T> {
  readonly columns: readonly Column<T>[]
  /** The parameter number of its first array. */
  readonly first: number
}

const col = <T>(name: string, pg: Column<T>['pg'], get: (item: T) => unknown): Column<T> => ({ name, pg, get })

/** The execution row of a step: the fence (who must hold it), then the state, then (on create) what is set once. */
const EXECUTION_COLUMNS: readonly Column<StepWrite>[] = [
  col('id', 'text', (w) => w.executionId),
  col('is_create', 'bool', (w) => w.create !== undefined),
  col('holder', 'text', (w) => (w.takeover === true ? null : w.owner)),
  ...EXECUTION_STATE_COLUMNS.map((c) => (c.name === 'input' ? col<StepWrite>('new_input', 'text', c.get) : c)),
  col('poke_seen', 'int4', stepWakeInputs.poke_seen),
  col('woken_wake_at', 'int8', stepWakeInputs.woken_wake_at),
  ...EXECUTION_CREATE_COLUMNS.filter((c) => c.name !== 'id').map((c) => col<StepWrite>(c.name, c.pg, (w) => (w.create === undefined ? null : c.get(w.create)))),
]
const STATE_NAMES = EXECUTION_STATE_COLUMNS.filter((c) => c.name !== 'input').map((c) => c.name)
const CREATE_NAMES = [...EXECUTION_CREATE_COLUMNS.filter((c) => c.name !== 'id').map((c) => c.name), ...STATE_NAMES]

const CHILD_COLUMNS: readonly Column<NewExecution>[] = [...EXECUTION_CREATE_COLUMNS, col('status', 'text', () => 'pending'), col('updated_at', 'int8', (c) => c.createdAt), col('wake_at', 'int8', (c) => c.createdAt)]

interface Target {
  readonly id: string
  readonly now: number
  /** The execution whose step asks for it: applied only when that step is. */
  readonly by: string
}
const TARGET_COLUMNS: readonly Column<Target>[] = [col('id', 'text', (t) => t.id), col('now', 'int8', (t) => t.now), col('by', 'text', (t) => t.by)]

let next = 1
const group = <T>(columns: readonly Column<T>[]): ArrayGroup<T> => {
  const g = { columns, first: next }
  next += columns.length
  return g
}
const executions = group(EXECUTION_COLUMNS)
const interrupts = group(RUN_INTERRUPT_COLUMNS)
const ends = group(RUN_END_COLUMNS)
const parks = group(RUN_PARK_COLUMNS)
const starts = group(RUN_START_COLUMNS)
const events = group(EVENT_COLUMNS)
const children = group(CHILD_COLUMNS)
const consumes = group(CONSUME_COLUMNS)
const cancels = group(TARGET_COLUMNS)
const wakes = group(TARGET_COLUMNS)
/** Whether the batch leaves work for other nodes (queued, handed back, woken): they are notified as it commits. */
const NOTIFY = next++

const unnest = <T>(g: ArrayGroup<T>): string =>
  `unnest(${g.columns.map((c, i) => `$${g.first + i}::${c.pg}[]`).join(', ')}) as v(${g.columns.map((c) => c.name).join(', ')})`
const list = (names: readonly string[], prefix = ''): string => names.map((n) => `${prefix}${n}`).join(', ')
const applied = (column: string): string => `${column} in (select id from applied)`
const UNFINISHED = `status in ('pending', 'running')`
const endNames = RUN_END_COLUMNS.map((c) => c.name).filter((n) => n !== 'execution_id' && n !== 'seq')

/**
 * Every step of a batch in ONE statement, whatever the batch size, so that a batch costs one round
 * trip and one commit. Each column is an array unnested into rows. The execution rows go first:
 * new ones are inserted (an idempotency key or id already taken inserts nothing), existing ones
 * are updated only while the step's writer holds the lease (or nobody does, on takeover). Everything
 * else a step writes (its runs, events, children, signals, the parent it wakes) is written only if
 * its execution row was, so a fenced-out step writes nothing; the statement answers the ids whose
 * steps applied. When the batch leaves work for others, the statement also notifies the idle
 * workers: the notification goes out with the commit, without a round trip of its own.
 *
 * Sub-statements of one statement do not see each other's rows and must not write one row twice:
 * the group commit puts at most one step touching a given execution row in a batch, and the core
 * never starts and ends, or ends and parks, one run in one step (a run that starts ended is one insert).
 */
export const WRITE_STEPS_SQL = `with s as materialized (select * from ${unnest(executions)}),
ins as (
  insert into executions (id, ${list(CREATE_NAMES)})
  select id, ${list(CREATE_NAMES)} from s where is_create
  on conflict do nothing
  returning id
),
upd as (
  update executions e set ${STATE_NAMES.map((n) => (n === 'wake_at' ? `wake_at = ${STEP_WAKE_AT('s.poke_seen', 's.woken_wake_at', 's.wake_at', 'e.')}` : `${n} = s.${n}`)).join(', ')},
    input = coalesce(s.new_input, e.input)
  from s
  where not s.is_create and e.id = s.id and e.lease_owner is not distinct from s.holder
  returning e.id
),
applied as (select id from ins union all select id from upd),
interrupt_runs as (
  update task_runs t set status = 'interrupted', finished_at = v.finished_at, waiting_for = null
  from ${unnest(interrupts)}
  where t.execution_id = v.execution_id and t.seq = v.seq and ${applied('v.execution_id')}
),
end_runs as (
  update task_runs t set ${list(endNames.map((n) => `${n} = v.${n}`))}, waiting_for = null
  from ${unnest(ends)}
  where t.execution_id = v.execution_id and t.seq = v.seq and ${applied('v.execution_id')}
),
park_runs as (
  update task_runs t set status = 'waiting', waiting_for = v.waiting_for
  from ${unnest(parks)}
  where t.execution_id = v.execution_id and t.seq = v.seq and ${applied('v.execution_id')}
),
start_runs as (
  insert into task_runs (${list(RUN_START_COLUMNS.map((c) => c.name))})
  select ${list(RUN_START_COLUMNS.map((c) => c.name), 'v.')} from ${unnest(starts)}
  where ${applied('v.execution_id')}
),
insert_events as (
  insert into execution_events (${list(EVENT_COLUMNS.map((c) => c.name))})
  select ${list(EVENT_COLUMNS.map((c) => c.name), 'v.')} from ${unnest(events)}
  where ${applied('v.execution_id')}
),
insert_children as (
  insert into executions (${list(CHILD_COLUMNS.map((c) => c.name))})
  select ${list(CHILD_COLUMNS.map((c) => c.name), 'v.')} from ${unnest(children)}
  where ${applied('v.parent_execution_id')}
  on conflict do nothing
),
consume_signals as (
  update signals g set consumed_by = v.consumed_by
  from ${unnest(consumes)}
  where g.execution_id = v.execution_id and g.seq = v.seq and g.consumed_by is null and ${applied('v.execution_id')}
),
cancel_children as (
  update executions e set cancel_requested = 1, poke = e.poke + 1, wake_at = ${wakeAtExpression('v.now', 'e.')}
  from ${unnest(cancels)}
  where e.id = v.id and e.${UNFINISHED} and ${applied('v.by')}
),
wake_parents as (
  update executions e set poke = e.poke + 1, wake_at = ${wakeAtExpression('v.now', 'e.')}
  from ${unnest(wakes)}
  where e.id = v.id and e.${UNFINISHED} and ${applied('v.by')}
),
notified as materialized (select pg_notify('${WORK_CHANNEL}', '') where $${NOTIFY}::bool)
select id from applied
union all select null from notified`

const fill = <T>(g: ArrayGroup<T>, items: readonly T[], out: unknown[]): void => {
  g.columns.forEach((c, i) => {
    const values = new Array<unknown>(items.length)
    for (let j = 0; j < items.length; j++) values[j] = c.get(items[j] as T) ?? null
    out[g.first - 1 + i] = values
  })
}

/** Whether a step leaves work for any node: an unfinished execution unowned, a child queued, a parent or a child woken. */
const leavesWork = (w: StepWrite): boolean =>
  (w.leaseExpiresAt === null && w.state.status !== 'completed' && w.state.status !== 'failed' && w.state.status !== 'cancelled') ||
  w.children !== undefined ||
  w.wakeParent !== undefined ||
  w.cancelChildren !== undefined

/** The parameters of WRITE_STEPS_SQL for a batch of steps (each execution row touched by one step at most). */
export function writeStepsParameters(steps: readonly StepWrite[]): unknown[] {
  // Rows are locked in id order, so two batches touching the same executions cannot deadlock.
  const sorted = [...steps].sort((a, b) => (a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0))
  const out = new Array<unknown>(next - 1)
  const runs = runItems(sorted)
  fill(executions, sorted, out)
  fill(interrupts, runs.interrupts, out)
  fill(ends, runs.ends, out)
  fill(parks, runs.parks, out)
  fill(starts, runs.starts, out)
  fill(events, sorted.filter((s) => s.events.length > 0), out)
  fill(children, sorted.flatMap((s) => s.children ?? []), out)
  fill(consumes, sorted.flatMap((w): ConsumeItem[] => (w.consumeSignals ?? []).map((c) => ({ w, signalSeq: c.signalSeq, runSeq: c.runSeq }))), out)
  fill(cancels, sorted.flatMap((w) => (w.cancelChildren ?? []).map((id) => ({ id, now: w.state.updatedAt, by: w.executionId }))), out)
  fill(wakes, sorted.flatMap((w) => (w.wakeParent === undefined ? [] : [{ id: w.wakeParent, now: w.state.updatedAt, by: w.executionId }])), out)
  out[NOTIFY - 1] = steps.some(leavesWork)
  return out
}
