import type { ExecutionError, ExecutionStatus } from '../../core/advance.js'
import type { TaskFailure } from '../../core/task-result.js'
import type { EventType, ExecutionEventRecord, ExecutionRecord, StepWrite, TaskRunRecord, TaskRunStatus } from '../store.js'
import type { ExecutionEventsTable, ExecutionsTable, TaskRunsTable } from './schema.js'

/** Numbers come back as strings from PostgreSQL's bigint; both drivers' rows pass through here. */
const num = (value: number | string): number => (typeof value === 'number' ? value : Number(value))
const numOrNull = (value: number | string | null): number | null => (value === null ? null : num(value))
const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text))

type Row<T> = { [K in keyof T]: T[K] | (T[K] extends number | null ? string : never) }

export function executionFromRow(row: Row<ExecutionsTable>): ExecutionRecord {
  return {
    id: row.id,
    flowId: row.flow_id,
    flowVersion: numOrNull(row.flow_version),
    definitionHash: row.definition_hash,
    status: row.status as ExecutionStatus,
    input: json(row.input),
    currentTask: row.current_task,
    steps: num(row.steps),
    stepBase: num(row.step_base),
    failedTask: row.failed_task,
    error: json(row.error) as ExecutionError | null,
    idempotencyKey: row.idempotency_key,
    createdAt: num(row.created_at),
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    leaseOwner: row.lease_owner,
    cancelRequested: num(row.cancel_requested) !== 0,
    eventSeq: num(row.event_seq),
  }
}

/**
 * A stored event, as a tuple: `[seq, type, at, task, data]`. The log is most of what a step writes,
 * and its bytes (WAL, checkpoints) are what a step costs, so key names are not repeated per event.
 */
type StoredEvent = readonly [seq: number, type: EventType, at: number, task: string | null, data: unknown]

/** The events of one stored row (one step), in order. */
export function eventsFromRow(row: Row<ExecutionEventsTable>): ExecutionEventRecord[] {
  return (JSON.parse(row.events) as StoredEvent[]).map(([seq, type, at, taskName, data]) => ({
    executionId: row.execution_id,
    seq,
    type,
    at,
    taskName,
    data,
  }))
}

export function taskRunFromRow(row: Row<TaskRunsTable>): TaskRunRecord {
  return {
    executionId: row.execution_id,
    seq: num(row.seq),
    taskName: row.task_name,
    taskType: row.task_type,
    attempt: num(row.attempt),
    status: row.status as TaskRunStatus,
    data: json(row.data),
    error: json(row.error) as TaskFailure | null,
    startedAt: num(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    durationMs: numOrNull(row.duration_ms),
    nextTask: row.next_task,
  }
}

type Field = (step: StepWrite) => unknown

const stateFields: Record<string, Field> = {
  id: (w) => w.executionId,
  owner: (w) => w.owner,
  lease_owner: (w) => (w.leaseExpiresAt === null ? null : w.owner),
  lease_expires_at: (w) => w.leaseExpiresAt,
  status: (w) => w.state.status,
  current_task: (w) => w.state.currentTask,
  steps: (w) => w.state.steps,
  step_base: (w) => w.state.stepBase,
  failed_task: (w) => w.state.failedTask,
  error: (w) => (w.state.error === null ? null : JSON.stringify(w.state.error)),
  started_at: (w) => w.state.startedAt,
  finished_at: (w) => w.state.finishedAt,
  updated_at: (w) => w.state.updatedAt,
  event_seq: (w) => w.state.eventSeq,
  wake_at: (w) => w.wakeAt ?? null,
}

/**
 * How each column of the step statements is read from a StepWrite. Binding straight into the
 * parameter array, with no intermediate row objects, keeps the per-step cost of the hot path low.
 */
export const STEP_FIELDS = {
  insertExecution: {
    ...stateFields,
    flow_id: (w) => w.create?.flowId,
    flow_version: (w) => w.create?.flowVersion,
    definition_hash: (w) => w.create?.definitionHash,
    input: (w) => w.create?.inputJson,
    idempotency_key: (w) => w.create?.idempotencyKey,
    created_at: (w) => w.create?.createdAt,
  },
  updateExecution: stateFields,
  finishRun: {
    execution_id: (w) => w.executionId,
    seq: (w) => w.finishRun?.seq,
    status: (w) => w.finishRun?.status,
    data: (w) => w.finishRun?.dataJson,
    error: (w) => (w.finishRun?.error == null ? null : JSON.stringify(w.finishRun.error)),
    finished_at: (w) => w.finishRun?.finishedAt,
    duration_ms: (w) => w.finishRun?.durationMs,
    next_task: (w) => w.finishRun?.nextTask,
  },
  interruptRun: {
    execution_id: (w) => w.executionId,
    seq: (w) => w.interruptRun?.seq,
    finished_at: (w) => w.interruptRun?.at,
    status: () => 'interrupted',
  },
  startRun: {
    execution_id: (w) => w.executionId,
    seq: (w) => w.startRun?.seq,
    task_name: (w) => w.startRun?.taskName,
    task_type: (w) => w.startRun?.taskType,
    attempt: (w) => w.startRun?.attempt,
    status: () => 'running',
    started_at: (w) => w.startRun?.startedAt,
  },
} satisfies Record<string, Record<string, Field>>

/** Event-log columns of a step that appended events: one row holds them all. */
export const EVENT_FIELDS: Record<string, (step: StepWrite) => unknown> = {
  execution_id: (w) => w.executionId,
  seq: (w) => w.events[0]?.seq,
  last_seq: (w) => w.events[w.events.length - 1]?.seq,
  at: (w) => w.events[0]?.at,
  events: (w) => JSON.stringify(w.events.map((e): StoredEvent => [e.seq, e.type, e.at, e.taskName, e.data])),
}

/** A function that fills a statement's parameters, in placeholder order, from a step. */
export function binder(order: readonly string[], fields: Record<string, Field>): (step: StepWrite) => unknown[] {
  const getters = order.map((name) => {
    const field = fields[name]
    if (field === undefined) throw new Error(`no field for column "${name}"`)
    return field
  })
  return (step) => {
    const out = new Array<unknown>(getters.length)
    for (let i = 0; i < getters.length; i++) out[i] = (getters[i] as Field)(step) ?? null
    return out
  }
}
