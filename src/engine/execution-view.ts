import type { ExecutionError, ExecutionStatus } from '../core/execution-state.js'
import type { ExecutionDetail, ExecutionRecord, TaskRunRecord, TaskRunStatus, WaitingForView } from '../store/store.js'

/** One task run on the wire, snake_case (docs/api.md). */
export interface TaskRunView {
  /** Its position in the execution (1-based): `GET …/task-runs/{seq}` reads it whole. */
  readonly seq: number
  readonly task_name: string
  readonly task_type: string
  readonly status: TaskRunStatus
  readonly attempt: number
  readonly data: unknown
  /** True when `data` was left out to keep the answer small (read the run alone to have it). */
  readonly data_omitted?: true
  readonly error: string | null
  readonly error_code: string | null
  readonly error_stack: string | null
  readonly started_at: string
  readonly finished_at: string | null
  readonly duration_ms: number | null
  readonly next_task: string | null
  /** The group's or for_each task's run it belongs to. */
  readonly parent_seq: number | null
  /** The first task of the branch it runs in. */
  readonly branch: string | null
  /** Its item's index, for an item run of a for_each task. */
  readonly item_index: number | null
  /** What a parked run waits for: `{timer}`, `{signal, timeout_at?}` or `{child}`. */
  readonly waiting_for: WaitingForView | null
  /** When a failed attempt will be tried again (ISO), or null. */
  readonly retry_at: string | null
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
  /** All task runs of the execution; more than task_results holds when older ones were left out. */
  readonly task_run_count: number
  readonly parent_execution_id: string | null
  readonly parent_task: string | null
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
    seq: run.seq,
    task_name: run.taskName,
    task_type: run.taskType,
    status: run.status,
    attempt: run.attempt,
    data: run.data ?? null,
    ...(run.dataOmitted === true ? { data_omitted: true as const } : {}),
    error: run.error?.message ?? null,
    error_code: run.error?.code ?? null,
    error_stack: run.error?.stack ?? null,
    started_at: iso(run.startedAt),
    finished_at: isoOrNull(run.finishedAt),
    duration_ms: run.durationMs === null ? null : round(run.durationMs),
    next_task: run.nextTask,
    parent_seq: run.parentSeq,
    branch: run.branch,
    item_index: run.itemIndex,
    waiting_for: run.waitingFor,
    retry_at: isoOrNull(run.retryAt),
  }
}

/** The summary form used in lists: no task results. */
export function toExecutionSummary(execution: ExecutionRecord): Omit<ExecutionView, 'task_results' | 'executed_tasks' | 'task_run_count'> {
  return {
    execution_id: execution.id,
    flow_id: execution.flowId,
    flow_version: execution.flowVersion,
    status: execution.status,
    input: execution.input,
    current_task: execution.currentTask,
    failed_task: execution.failedTask,
    error: execution.error,
    parent_execution_id: execution.parent?.executionId ?? null,
    parent_task: execution.parent?.task ?? null,
    created_at: iso(execution.createdAt),
    started_at: isoOrNull(execution.startedAt),
    finished_at: isoOrNull(execution.finishedAt),
    duration_ms: execution.startedAt !== null && execution.finishedAt !== null ? execution.finishedAt - execution.startedAt : null,
  }
}

export function toExecutionView(detail: ExecutionDetail): ExecutionView {
  return {
    ...toExecutionSummary(detail.execution),
    executed_tasks: detail.runs.filter((r) => r.status !== 'running' && r.status !== 'waiting').map((r) => r.taskName),
    task_results: detail.runs.map(toTaskRunView),
    task_run_count: detail.totalRuns ?? detail.runs.length,
  }
}
