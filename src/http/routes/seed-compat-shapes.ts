import type { ExecutionDetail, TaskRunRecord } from '../../store/store.js'

/**
 * The answer shapes the original Python services' clients read (the README's "Clients of the
 * original services"). Pure functions of a recorded execution; the canonical representation is
 * never touched.
 */

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
const finishedRuns = (detail: ExecutionDetail): readonly TaskRunRecord[] => detail.runs.filter((r) => r.status !== 'running')
const failureMessage = (detail: ExecutionDetail): string | null => detail.execution.error?.message ?? null
const isFinished = (detail: ExecutionDetail): boolean => detail.execution.finishedAt !== null

/** An object whose keys are data (task names): defineProperty keeps "__proto__" an ordinary key. */
function byName(entries: Iterable<readonly [string, unknown]>, into: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of entries) Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true })
  return into
}

/** That service's execution status: success and failure, like its task statuses. */
const API_V1_STATUS = { pending: 'pending', running: 'running', completed: 'success', failed: 'failure', cancelled: 'failure' } as const

/** `execution_state` of the service behind POST /api/v1/flows/execute. */
export function executionState(detail: ExecutionDetail, flowName: string | null): Record<string, unknown> {
  const e = detail.execution
  return {
    execution_id: e.id,
    flow_id: e.flowId,
    flow_name: flowName,
    status: API_V1_STATUS[e.status],
    current_task: e.currentTask,
    task_results: detail.runs.map((run) => ({
      task_name: run.taskName,
      status: run.status,
      data: run.data ?? null,
      error: run.error?.message ?? null,
      started_at: iso(run.startedAt),
      completed_at: iso(run.finishedAt),
    })),
    started_at: iso(e.startedAt),
    completed_at: iso(e.finishedAt),
    error: failureMessage(detail),
  }
}

export function apiV1ExecuteAnswer(detail: ExecutionDetail, flowName: string | null): Record<string, unknown> {
  const e = detail.execution
  const name = flowName ?? e.flowId
  const message =
    e.status === 'completed'
      ? `Flow '${name}' completed successfully. Executed ${finishedRuns(detail).length} task(s).`
      : e.status === 'failed' || e.status === 'cancelled'
        ? `Flow '${name}' failed${e.failedTask === null ? '' : ` at task '${e.failedTask}'`}.${failureMessage(detail) === null ? '' : ` ${failureMessage(detail)}`}`
        : `Flow '${name}' status: ${e.status}`
  return {
    execution_id: e.id,
    flow_id: e.flowId,
    status: API_V1_STATUS[e.status],
    message,
    execution_state: executionState(detail, flowName),
  }
}

/**
 * POST /flow/execute and GET /flow/status/{id}: two services answered on this path, so the answer
 * carries both shapes' fields (`execution_history` … and `executed_tasks`, `failed_task`).
 */
export function flowExecuteAnswer(detail: ExecutionDetail): Record<string, unknown> {
  const e = detail.execution
  return {
    execution_id: e.id,
    flow_id: e.flowId,
    status: e.status,
    // That service left the last task it ran here once the flow had ended.
    current_task: e.currentTask ?? finishedRuns(detail).at(-1)?.taskName ?? null,
    execution_history: finishedRuns(detail).map((run) => ({
      task_name: run.taskName,
      status: run.status,
      data: run.data ?? null,
      message: run.error?.message ?? (run.status === 'success' ? 'Task completed successfully' : `Task ${run.status}`),
      timestamp: iso(run.finishedAt ?? run.startedAt),
    })),
    start_time: iso(e.startedAt),
    end_time: iso(e.finishedAt),
    error_message: failureMessage(detail),
    executed_tasks: finishedRuns(detail).map((run) => run.taskName),
    failed_task: e.failedTask,
  }
}

const taskRunId = (run: TaskRunRecord): string => `${run.executionId}:${run.seq}`
/** What that service's tasks returned: `{success, data}`. */
const runResult = (run: TaskRunRecord): Record<string, unknown> | null => (run.status === 'running' ? null : { success: run.status === 'success', data: run.data ?? null })
/** Its task run statuses: running, success, failed. */
const runStatus = (run: TaskRunRecord): string => (run.status === 'success' || run.status === 'running' ? run.status : 'failed')

/** POST /run-flow. */
export function runFlowAnswer(detail: ExecutionDetail): Record<string, unknown> {
  return {
    status: detail.execution.status,
    flow_run_id: detail.execution.id,
    execution_log: finishedRuns(detail).map((run) => ({
      task_run_id: taskRunId(run),
      task_name: run.taskName,
      success: run.status === 'success',
      data: run.data ?? null,
      result: runResult(run),
      error: run.error?.message ?? null,
    })),
  }
}

/** GET /flows/{flow_run_id}, when the id names an execution rather than a flow. */
export function flowRunAnswer(detail: ExecutionDetail, flowName: string | null): Record<string, unknown> {
  const e = detail.execution
  return {
    flow_run: { id: e.id, flow_id: e.flowId, flow_name: flowName, created_at: iso(e.createdAt), status: e.status },
    tasks: detail.runs.map((run) => ({
      id: taskRunId(run),
      flow_run_id: e.id,
      task_name: run.taskName,
      started_at: iso(run.startedAt),
      finished_at: iso(run.finishedAt),
      status: runStatus(run),
      result: runResult(run),
      error: run.error?.message ?? null,
    })),
  }
}

/**
 * POST /flows/execute and GET /executions/{id}: task results keyed by task name, times in seconds,
 * and the context as that service left it: the input, plus each task's data as `<task>_result`.
 */
export function flowsExecuteAnswer(detail: ExecutionDetail): Record<string, unknown> {
  const e = detail.execution
  const runs = finishedRuns(detail)
  const taskResults = byName(
    runs.map((run) => [run.taskName, { status: run.status === 'success' ? 'success' : 'failure', data: run.data ?? null, error: run.error?.message ?? null, execution_time: (run.durationMs ?? 0) / 1000 }]),
  )
  const input = typeof e.input === 'object' && e.input !== null && !Array.isArray(e.input) ? Object.entries(e.input) : []
  return {
    execution_id: e.id,
    flow_id: e.flowId,
    status: e.status,
    current_task: e.currentTask ?? (isFinished(detail) ? 'end' : null),
    task_results: taskResults,
    start_time: iso(e.startedAt),
    end_time: iso(e.finishedAt),
    context: byName([...input, ...runs.map((run): [string, unknown] => [`${run.taskName}_result`, run.data ?? null])]),
  }
}
