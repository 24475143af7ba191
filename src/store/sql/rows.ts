import type { ExecutionError, ExecutionStatus } from '../../core/advance.js'
import type { TaskFailure } from '../../core/task-result.js'
import type { ExecutionRecord, StepWrite, TaskRunRecord, TaskRunStatus } from '../store.js'
import type { ExecutionsTable, TaskRunsTable } from './schema.js'

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
  }
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

/** The parameter values of one step's statements, by column name. */
export function stepParams(step: StepWrite): {
  create: Record<string, unknown> | undefined
  state: Record<string, unknown>
  finish: Record<string, unknown> | undefined
  start: Record<string, unknown> | undefined
} {
  const s = step.state
  const c = step.create
  const f = step.finishRun
  const r = step.startRun
  return {
    create:
      c === undefined
        ? undefined
        : {
            id: c.id,
            flow_id: c.flowId,
            flow_version: c.flowVersion,
            definition_hash: c.definitionHash,
            input: c.inputJson,
            idempotency_key: c.idempotencyKey,
            created_at: c.createdAt,
          },
    state: {
      id: step.executionId,
      status: s.status,
      current_task: s.currentTask,
      steps: s.steps,
      step_base: s.stepBase,
      failed_task: s.failedTask,
      error: s.error === null ? null : JSON.stringify(s.error),
      started_at: s.startedAt,
      finished_at: s.finishedAt,
      updated_at: s.updatedAt,
    },
    finish:
      f === undefined
        ? undefined
        : {
            execution_id: step.executionId,
            seq: f.seq,
            status: f.status,
            data: f.dataJson ?? null,
            error: f.error === null ? null : JSON.stringify(f.error),
            finished_at: f.finishedAt,
            duration_ms: f.durationMs,
            next_task: f.nextTask,
          },
    start:
      r === undefined
        ? undefined
        : {
            execution_id: step.executionId,
            seq: r.seq,
            task_name: r.taskName,
            task_type: r.taskType,
            attempt: r.attempt,
            status: 'running',
            started_at: r.startedAt,
          },
  }
}
