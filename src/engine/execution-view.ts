import type { ExecutionError, ExecutionStatus } from '../core/advance.js'
import type { ExecutionDetail, ExecutionRecord, TaskRunRecord, TaskRunStatus } from '../store/store.js'

/** One task run on the wire, snake_case (docs/api.md). */
export interface TaskRunView {
  readonly task_name: string
  readonly task_type: string
  readonly status: TaskRunStatus
  readonly attempt: number
  readonly data: unknown
  readonly error: string | null
  readonly error_code: string | null
  readonly error_stack: string | null
  readonly started_at: string
  readonly finished_at: string | null
  readonly duration_ms: number | null
  readonly next_task: string | null
}

/** An execution on the wire (docs/api.md): the shape the API, the CLI's --json and the UI share. */
export interface ExecutionView {
  readonly execution_id: string
  readonly flow_id: string
  readonly flow_version: number | null
  readonly status: ExecutionStatus
  readonly input: unknown
  readonly executed_tasks: readonly string[]
  readonly current_task: string | null
  readonly failed_task: string | null
  readonly error: ExecutionError | null
  readonly task_results: readonly TaskRunView[]
  readonly created_at: string
  readonly started_at: string | null
  readonly finished_at: string | null
  readonly duration_ms: number | null
}

const iso = (ms: number): string => new Date(ms).toISOString()
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms))
const round = (ms: number): number => Math.round(ms * 1000) / 1000

export function toTaskRunView(run: TaskRunRecord): TaskRunView {
  return {
    task_name: run.taskName,
    task_type: run.taskType,
    status: run.status,
    attempt: run.attempt,
    data: run.data ?? null,
    error: run.error?.message ?? null,
    error_code: run.error?.code ?? null,
    error_stack: run.error?.stack ?? null,
    started_at: iso(run.startedAt),
    finished_at: isoOrNull(run.finishedAt),
    duration_ms: run.durationMs === null ? null : round(run.durationMs),
    next_task: run.nextTask,
  }
}

/** The summary form used in lists: no task results. */
export function toExecutionSummary(execution: ExecutionRecord): Omit<ExecutionView, 'task_results' | 'executed_tasks'> {
  return {
    execution_id: execution.id,
    flow_id: execution.flowId,
    flow_version: execution.flowVersion,
    status: execution.status,
    input: execution.input,
    current_task: execution.currentTask,
    failed_task: execution.failedTask,
    error: execution.error,
    created_at: iso(execution.createdAt),
    started_at: isoOrNull(execution.startedAt),
    finished_at: isoOrNull(execution.finishedAt),
    duration_ms: execution.startedAt !== null && execution.finishedAt !== null ? execution.finishedAt - execution.startedAt : null,
  }
}

export function toExecutionView(detail: ExecutionDetail): ExecutionView {
  return {
    ...toExecutionSummary(detail.execution),
    executed_tasks: detail.runs.filter((r) => r.status !== 'running').map((r) => r.taskName),
    task_results: detail.runs.map(toTaskRunView),
  }
}
