import type { ExecutionDetail, TaskRunRecord } from '../../store/store.js'

/**
 * The answer shapes the original Python services' clients read. Pure functions
 * of a recorded execution; the canonical representation is never touched.
 */

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
const finishedRuns = (detail: ExecutionDetail): readonly TaskRunRecord[] => detail.runs.filter((r) => r.status !== 'running')
const failureMessage = (detail: ExecutionDetail): string | null => detail.execution.error?.message ?? null

/** `execution_state` of the service behind POST /api/v1/flows/execute. */
export function executionState(detail: ExecutionDetail, flowName: string | null): Record<string, unknown> {
  const e = detail.execution
  return {
    execution_id: e.id,
    flow_id: e.flowId,
    flow_name: flowName,
    status: e.status,
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
  const ok = detail.execution.status === 'completed'
  return {
    execution_id: detail.execution.id,
    flow_id: detail.execution.flowId,
    status: ok ? 'success' : 'failure',
    message: ok ? 'Flow executed successfully' : `Flow execution ${detail.execution.status}${failureMessage(detail) === null ? '' : `: ${failureMessage(detail)}`}`,
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
    current_task: e.currentTask,
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
      status: run.status,
      result: run.data ?? null,
      error: run.error?.message ?? null,
    })),
  }
}

/** POST /flows/execute and GET /executions/{id}: task results keyed by task name, times in seconds. */
export function flowsExecuteAnswer(detail: ExecutionDetail): Record<string, unknown> {
  const e = detail.execution
  const taskResults: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  for (const run of finishedRuns(detail)) {
    // A task name is data: defineProperty keeps "__proto__" an ordinary key.
    Object.defineProperty(taskResults, run.taskName, {
      value: { status: run.status, data: run.data ?? null, error: run.error?.message ?? null, execution_time: run.durationMs === null ? null : run.durationMs / 1000 },
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return {
    execution_id: e.id,
    flow_id: e.flowId,
    status: e.status,
    current_task: e.currentTask,
    task_results: taskResults,
    start_time: iso(e.startedAt),
    end_time: iso(e.finishedAt),
    context: e.input,
  }
}
