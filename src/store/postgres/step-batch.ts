import { EVENT_FIELDS, STEP_FIELDS } from '../sql/rows.js'
import type { StepWrite } from '../store.js'

type Getter<T> = (item: T) => unknown
type Column<T> = readonly [name: string, type: string, get: Getter<T>]

/** One set of parallel arrays, unnested into rows by the statement: one array per column. */
interface ArrayGroup<T> {
  readonly columns: readonly Column<T>[]
  /** The parameter number of its first array. */
  readonly first: number
}

const field = (table: Record<string, Getter<StepWrite>>, name: string): Getter<StepWrite> => {
  const get = table[name]
  if (get === undefined) throw new Error(`no field for column "${name}"`)
  return get
}

const execution = (name: string, type: string): Column<StepWrite> => [name, type, field(STEP_FIELDS.insertExecution, name)]

/** Columns of the execution row, written by every step (the create-only ones only on create). */
const EXECUTION_COLUMNS: readonly Column<StepWrite>[] = [
  ['id', 'text', (w) => w.executionId],
  ['is_create', 'bool', (w) => w.create !== undefined],
  // The lease owner the row must have for the step to apply: us, or nobody on takeover.
  ['holder', 'text', (w) => (w.takeover === true ? null : w.owner)],
  ...(
    [
      ['lease_owner', 'text'],
      ['lease_expires_at', 'int8'],
      ['status', 'text'],
      ['current_task', 'text'],
      ['steps', 'int4'],
      ['step_base', 'int4'],
      ['failed_task', 'text'],
      ['error', 'text'],
      ['started_at', 'int8'],
      ['finished_at', 'int8'],
      ['updated_at', 'int8'],
      ['event_seq', 'int4'],
      ['wake_at', 'int8'],
      ['flow_id', 'text'],
      ['flow_version', 'int4'],
      ['definition_hash', 'text'],
      ['input', 'text'],
      ['idempotency_key', 'text'],
      ['created_at', 'int8'],
    ] as const
  ).map(([name, type]) => execution(name, type)),
]
const STATE_COLUMNS = EXECUTION_COLUMNS.slice(3, 16).map(([name]) => name)
const CREATE_COLUMNS = EXECUTION_COLUMNS.slice(3).map(([name]) => name)

const run = (table: Record<string, Getter<StepWrite>>, columns: readonly (readonly [string, string])[]): Column<StepWrite>[] =>
  columns.map(([name, type]) => [name, type, field(table, name)])

const INTERRUPT_COLUMNS = run(STEP_FIELDS.interruptRun, [
  ['execution_id', 'text'],
  ['seq', 'int4'],
  ['finished_at', 'int8'],
])
const FINISH_COLUMNS = run(STEP_FIELDS.finishRun, [
  ['execution_id', 'text'],
  ['seq', 'int4'],
  ['status', 'text'],
  ['data', 'text'],
  ['error', 'text'],
  ['finished_at', 'int8'],
  ['duration_ms', 'float8'],
  ['next_task', 'text'],
])
const START_COLUMNS = run(STEP_FIELDS.startRun, [
  ['execution_id', 'text'],
  ['seq', 'int4'],
  ['task_name', 'text'],
  ['task_type', 'text'],
  ['attempt', 'int4'],
  ['started_at', 'int8'],
])

const EVENT_COLUMNS: readonly Column<StepWrite>[] = (
  [
    ['execution_id', 'text'],
    ['seq', 'int4'],
    ['last_seq', 'int4'],
    ['at', 'int8'],
    ['events', 'text'],
  ] as const
).map(([name, type]) => [name, type, field(EVENT_FIELDS, name)])

let next = 1
const group = <T>(columns: readonly Column<T>[]): ArrayGroup<T> => {
  const g = { columns, first: next }
  next += columns.length
  return g
}
const executions = group(EXECUTION_COLUMNS)
const interrupts = group(INTERRUPT_COLUMNS)
const finishes = group(FINISH_COLUMNS)
const starts = group(START_COLUMNS)
const events = group(EVENT_COLUMNS)

const unnest = <T>(g: ArrayGroup<T>): string =>
  `unnest(${g.columns.map(([, type], i) => `$${g.first + i}::${type}[]`).join(', ')}) as v(${g.columns.map(([name]) => name).join(', ')})`
const list = (names: readonly string[], prefix = ''): string => names.map((n) => `${prefix}${n}`).join(', ')
const applied = `v.execution_id in (select id from applied)`

/**
 * Every step of a batch in ONE statement, whatever the batch size, so that a batch costs one round
 * trip and one commit. Each column is an array unnested into rows. The execution rows go first:
 * new ones are inserted (an idempotency key or id already taken inserts nothing), existing ones
 * are updated only while the step's writer holds the lease (or nobody does, on takeover). The
 * task runs and events of a step are written only if its execution row was, so a fenced-out step
 * writes nothing; the statement answers the ids whose steps applied.
 *
 * Sub-statements of one statement do not see each other's rows, which is safe here because a batch
 * holds at most one step per execution and a step never interrupts and finishes the same run.
 */
export const WRITE_STEPS_SQL = `with s as materialized (select * from ${unnest(executions)}),
ins as (
  insert into executions (id, ${list(CREATE_COLUMNS)})
  select id, ${list(CREATE_COLUMNS)} from s where is_create
  on conflict do nothing
  returning id
),
upd as (
  update executions e set ${STATE_COLUMNS.map((n) => `${n} = s.${n}`).join(', ')}
  from s
  where not s.is_create and e.id = s.id and e.lease_owner is not distinct from s.holder
  returning e.id
),
applied as (select id from ins union all select id from upd),
interrupt_runs as (
  update task_runs t set status = 'interrupted', finished_at = v.finished_at
  from ${unnest(interrupts)}
  where t.execution_id = v.execution_id and t.seq = v.seq and ${applied}
),
finish_runs as (
  update task_runs t set ${list(['status', 'data', 'error', 'finished_at', 'duration_ms', 'next_task'].map((n) => `${n} = v.${n}`))}
  from ${unnest(finishes)}
  where t.execution_id = v.execution_id and t.seq = v.seq and ${applied}
),
start_runs as (
  insert into task_runs (${list(START_COLUMNS.map(([n]) => n))}, status)
  select ${list(START_COLUMNS.map(([n]) => n), 'v.')}, 'running' from ${unnest(starts)}
  where ${applied}
),
insert_events as (
  insert into execution_events (${list(EVENT_COLUMNS.map(([n]) => n))})
  select ${list(EVENT_COLUMNS.map(([n]) => n), 'v.')} from ${unnest(events)}
  where ${applied}
)
select id from applied`

const fill = <T>(g: ArrayGroup<T>, items: readonly T[], out: unknown[]): void => {
  g.columns.forEach(([, , get], i) => {
    const values = new Array<unknown>(items.length)
    for (let j = 0; j < items.length; j++) values[j] = get(items[j] as T) ?? null
    out[g.first - 1 + i] = values
  })
}

/** The parameters of WRITE_STEPS_SQL for a batch of steps, at most one per execution. */
export function writeStepsParameters(steps: readonly StepWrite[]): unknown[] {
  // Rows are locked in id order, so two batches touching the same executions cannot deadlock.
  const sorted = [...steps].sort((a, b) => (a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0))
  const out = new Array<unknown>(next - 1)
  fill(executions, sorted, out)
  fill(interrupts, sorted.filter((s) => s.interruptRun !== undefined), out)
  fill(finishes, sorted.filter((s) => s.finishRun !== undefined), out)
  fill(starts, sorted.filter((s) => s.startRun !== undefined), out)
  fill(events, sorted.filter((s) => s.events.length > 0), out)
  return out
}
