import { storedWakeAt, wokenWakeAt, type EventType, type NewExecution, type RunEnd, type RunWrite, type StepWrite } from '../store.js'

/** PostgreSQL's type of a column, for the arrays the batch statement unnests. */
export type PgType = 'text' | 'int8' | 'int4' | 'float8' | 'bool'

/** A column a step writes: its name, its PostgreSQL type, and how its value is read from the step. */
export interface Column<T> {
  readonly name: string
  readonly pg: PgType
  readonly get: (item: T) => unknown
  /** Written only when the value is not null (the row keeps what it had otherwise). */
  readonly keepWhenNull?: boolean
}

const col = <T>(name: string, pg: PgType, get: (item: T) => unknown, keepWhenNull = false): Column<T> => ({ name, pg, get, keepWhenNull })
const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value))

/**
 * The one registry of what a step writes, table by table. The SQLite statements, the PostgreSQL
 * batch statement and the schema test all read it, so a column cannot be written in one place and
 * forgotten in another.
 */
export const EXECUTION_STATE_COLUMNS: readonly Column<StepWrite>[] = [
  col('lease_owner', 'text', (w) => (w.leaseExpiresAt === null ? null : w.owner)),
  col('lease_expires_at', 'int8', (w) => w.leaseExpiresAt),
  col('wake_at', 'int8', storedWakeAt),
  col('status', 'text', (w) => w.state.status),
  col('current_task', 'text', (w) => w.state.currentTask),
  col('steps', 'int4', (w) => w.state.steps),
  col('step_base', 'int4', (w) => w.state.stepBase),
  col('seq', 'int4', (w) => w.state.seq),
  col('failed_task', 'text', (w) => w.state.failedTask),
  col('error', 'text', (w) => json(w.state.error)),
  col('deadline', 'int8', (w) => w.state.deadline),
  col('threads', 'text', (w) => (w.state.threads.length === 0 ? null : JSON.stringify(w.state.threads))),
  col('next_thread', 'int4', (w) => w.state.nextThread),
  col('started_at', 'int8', (w) => w.state.startedAt),
  col('finished_at', 'int8', (w) => w.state.finishedAt),
  col('updated_at', 'int8', (w) => w.state.updatedAt),
  col('event_seq', 'int4', (w) => w.state.eventSeq),
  col('stored_bytes', 'int8', (w) => w.state.storedBytes),
  col('input', 'text', (w) => w.state.inputJson ?? null, true),
]

/**
 * How a step's update sets `wake_at`: its own wake time, or (when the poke counter moved past the
 * step's `pokeSeen`) the woken one. The placeholders are the poke seen, the woken and the own time.
 */
export const STEP_WAKE_AT = (pokeSeen: string, woken: string, own: string, row = ''): string =>
  `case when ${row}poke > ${pokeSeen} then ${woken} else ${own} end`
export const stepWakeInputs = {
  poke_seen: (w: StepWrite): number | null => w.pokeSeen ?? null,
  woken_wake_at: (w: StepWrite): number | null => (w.pokeSeen === undefined ? null : wokenWakeAt(w)),
}

/** Columns set once, when an execution (or a sub-flow's child execution) is created. */
export const EXECUTION_CREATE_COLUMNS: readonly Column<NewExecution>[] = [
  col('id', 'text', (c) => c.id),
  col('flow_id', 'text', (c) => c.flowId),
  col('flow_version', 'int4', (c) => c.flowVersion),
  col('definition_hash', 'text', (c) => c.definitionHash),
  col('input', 'text', (c) => c.inputJson),
  col('idempotency_key', 'text', (c) => c.idempotencyKey),
  col('created_at', 'int8', (c) => c.createdAt),
  col('parent_execution_id', 'text', (c) => c.parent?.executionId ?? null),
  col('parent_seq', 'int4', (c) => c.parent?.seq ?? null),
  col('parent_task', 'text', (c) => c.parent?.task ?? null),
  col('depth', 'int4', (c) => c.depth ?? 0),
]

/**
 * The wake time of an execution woken at `now` (a signal, a child's end, a cancellation): due at
 * once when nobody holds it, never later than it was; a held one's stays its holder's business.
 */
export const wakeAtExpression = (now: string, row = ''): string =>
  `case when ${row}lease_owner is null and (${row}wake_at is null or ${row}wake_at > ${now}) then ${now} else ${row}wake_at end`

/** A run write with the step it belongs to. */
export interface RunItem<K extends RunWrite['kind']> {
  readonly w: StepWrite
  readonly r: Extract<RunWrite, { kind: K }>
}

const endOf = (r: RunWrite): RunEnd | undefined => (r.kind === 'end' ? r : r.kind === 'start' ? r.end : undefined)
const endColumns = <K extends 'start' | 'end'>(): Column<RunItem<K>>[] => [
  col('data', 'text', ({ r }) => endOf(r)?.dataJson ?? null),
  col('error', 'text', ({ r }) => json(endOf(r)?.error ?? null)),
  col('finished_at', 'int8', ({ r }) => endOf(r)?.finishedAt ?? null),
  col('duration_ms', 'float8', ({ r }) => endOf(r)?.durationMs ?? null),
  col('next_task', 'text', ({ r }) => endOf(r)?.nextTask ?? null),
  col('retry_at', 'int8', ({ r }) => endOf(r)?.retryAt ?? null),
]

export const RUN_START_COLUMNS: readonly Column<RunItem<'start'>>[] = [
  col('execution_id', 'text', ({ w }) => w.executionId),
  col('seq', 'int4', ({ r }) => r.seq),
  col('task_name', 'text', ({ r }) => r.taskName),
  col('task_type', 'text', ({ r }) => r.taskType),
  col('attempt', 'int4', ({ r }) => r.attempt),
  col('status', 'text', ({ r }) => r.end?.status ?? (r.waitingForJson === undefined ? 'running' : 'waiting')),
  col('started_at', 'int8', ({ r }) => r.startedAt),
  col('parent_seq', 'int4', ({ r }) => r.parentSeq),
  col('branch', 'text', ({ r }) => r.branch),
  col('item_index', 'int4', ({ r }) => r.itemIndex),
  col('waiting_for', 'text', ({ r }) => (r.end === undefined ? (r.waitingForJson ?? null) : null)),
  col('items', 'text', ({ r }) => r.itemsJson ?? null),
  ...endColumns<'start'>(),
]

export const RUN_END_COLUMNS: readonly Column<RunItem<'end'>>[] = [
  col('execution_id', 'text', ({ w }) => w.executionId),
  col('seq', 'int4', ({ r }) => r.seq),
  col('status', 'text', ({ r }) => r.status),
  ...endColumns<'end'>(),
]

export const RUN_PARK_COLUMNS: readonly Column<RunItem<'park'>>[] = [
  col('execution_id', 'text', ({ w }) => w.executionId),
  col('seq', 'int4', ({ r }) => r.seq),
  col('waiting_for', 'text', ({ r }) => r.waitingForJson),
]

export const RUN_INTERRUPT_COLUMNS: readonly Column<RunItem<'interrupt'>>[] = [
  col('execution_id', 'text', ({ w }) => w.executionId),
  col('seq', 'int4', ({ r }) => r.seq),
  col('finished_at', 'int8', ({ r }) => r.at),
]

/** A stored event, as a tuple `[seq, type, at, task, data]`: key names are not repeated per event. */
export type StoredEvent = readonly [seq: number, type: EventType, at: number, task: string | null, data: unknown]

/** The event log: one row per step holding the events it appended. */
export const EVENT_COLUMNS: readonly Column<StepWrite>[] = [
  col('execution_id', 'text', (w) => w.executionId),
  col('seq', 'int4', (w) => w.events[0]?.seq),
  col('last_seq', 'int4', (w) => w.events[w.events.length - 1]?.seq),
  col('at', 'int8', (w) => w.events[0]?.at),
  col('events', 'text', (w) => JSON.stringify(w.events.map((e): StoredEvent => [e.seq, e.type, e.at, e.taskName, e.data]))),
]

export interface ConsumeItem {
  readonly w: StepWrite
  readonly signalSeq: number
  readonly runSeq: number
}

export const CONSUME_COLUMNS: readonly Column<ConsumeItem>[] = [
  col('execution_id', 'text', (c) => c.w.executionId),
  col('seq', 'int4', (c) => c.signalSeq),
  col('consumed_by', 'int4', (c) => c.runSeq),
]

/** The run writes of a batch of steps, by kind, each with its step. */
export function runItems(steps: readonly StepWrite[]): {
  starts: RunItem<'start'>[]
  ends: RunItem<'end'>[]
  parks: RunItem<'park'>[]
  interrupts: RunItem<'interrupt'>[]
} {
  const out = { starts: [] as RunItem<'start'>[], ends: [] as RunItem<'end'>[], parks: [] as RunItem<'park'>[], interrupts: [] as RunItem<'interrupt'>[] }
  for (const w of steps) {
    for (const r of w.runs) {
      if (r.kind === 'start') out.starts.push({ w, r })
      else if (r.kind === 'end') out.ends.push({ w, r })
      else if (r.kind === 'park') out.parks.push({ w, r })
      else out.interrupts.push({ w, r })
    }
  }
  return out
}

/** Fills a statement's parameters for one item, in placeholder order. */
export function binder<T>(order: readonly string[], columns: readonly Column<T>[], extra: Readonly<Record<string, (item: T) => unknown>> = {}): (item: T) => unknown[] {
  const getters = order.map((name) => {
    const get = columns.find((c) => c.name === name)?.get ?? extra[name]
    if (get === undefined) throw new Error(`no column "${name}"`)
    return get
  })
  return (item) => {
    const out = new Array<unknown>(getters.length)
    for (let i = 0; i < getters.length; i++) out[i] = getters[i]?.(item) ?? null
    return out
  }
}
