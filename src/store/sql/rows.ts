import type { ExecutionError, ExecutionStatus, Thread } from '../../core/execution-state.js'
import type { TaskFailure } from '../../core/task-result.js'
import type { ExecutionEventRecord, ExecutionRecord, SignalRecord, TaskRunRecord, TaskRunStatus, WaitingForView } from '../store.js'
import type { StoredEvent } from './columns.js'
import type { ExecutionEventsTable, ExecutionsTable, SignalsTable, TaskRunsTable } from './schema.js'

/** Numbers come back as strings from PostgreSQL's bigint; both drivers' rows pass through here. */
const num = (value: number | string): number => (typeof value === 'number' ? value : Number(value))
const numOrNull = (value: number | string | null): number | null => (value === null ? null : num(value))
const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text))

export type Row<T> = { [K in keyof T]: T[K] | (T[K] extends number | null ? string : never) }

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
    seq: num(row.seq),
    failedTask: row.failed_task,
    error: json(row.error) as ExecutionError | null,
    deadline: numOrNull(row.deadline),
    threads: (json(row.threads) as Thread[] | null) ?? [],
    nextThread: num(row.next_thread),
    idempotencyKey: row.idempotency_key,
    createdAt: num(row.created_at),
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    leaseOwner: row.lease_owner,
    wakeAt: numOrNull(row.wake_at),
    cancelRequested: num(row.cancel_requested) !== 0,
    eventSeq: num(row.event_seq),
    storedBytes: num(row.stored_bytes),
    poke: num(row.poke),
    parent:
      row.parent_execution_id === null
        ? null
        : { executionId: row.parent_execution_id, seq: num(row.parent_seq ?? 0), task: row.parent_task ?? '' },
    depth: num(row.depth),
  }
}

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

/** A run row; `data` may be left out of the select (a bounded read), and is then null with `dataOmitted`. */
export function taskRunFromRow(row: Omit<Row<TaskRunsTable>, 'data' | 'items'> & { data?: string | null; omitted?: number | string | boolean | null }): TaskRunRecord {
  const omitted = row.omitted === true || (row.omitted !== null && row.omitted !== undefined && row.omitted !== false && num(row.omitted) !== 0)
  return {
    executionId: row.execution_id,
    seq: num(row.seq),
    taskName: row.task_name,
    taskType: row.task_type,
    attempt: num(row.attempt),
    status: row.status as TaskRunStatus,
    data: row.data === undefined ? null : json(row.data),
    ...(omitted ? { dataOmitted: true } : {}),
    error: json(row.error) as TaskFailure | null,
    startedAt: num(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    durationMs: numOrNull(row.duration_ms),
    nextTask: row.next_task,
    parentSeq: numOrNull(row.parent_seq),
    branch: row.branch,
    itemIndex: numOrNull(row.item_index),
    waitingFor: json(row.waiting_for) as WaitingForView | null,
    retryAt: numOrNull(row.retry_at),
  }
}

export function signalFromRow(row: Row<SignalsTable>): SignalRecord {
  return { seq: num(row.seq), name: row.name, payload: json(row.payload), createdAt: num(row.created_at) }
}
