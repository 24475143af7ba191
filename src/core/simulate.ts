import { advance, INITIAL_STATE, type ExecutionError, type ExecutionStatus } from './advance.js'
import type { ResultView } from './expression.js'
import { renderInput } from './input-mapping.js'
import type { FlowPlan } from './plan.js'
import type { Outcome } from './flow-schema.js'
import type { TaskResult } from './task-result.js'

export interface SimulationOptions {
  /** The execution input expressions see. Default `{}`. */
  readonly input?: unknown
  /** How each task ends; a task not named succeeds. A failure fails every attempt, so retries are used up. */
  readonly outcomes?: Readonly<Record<string, Outcome>>
  /** The data each task returns, for conditions and input mappings that read `results.<task>.data`. */
  readonly data?: Readonly<Record<string, unknown>>
}

export interface Simulation {
  /** The task runs in order, one entry per attempt, as `executed_tasks` would list them. */
  readonly path: readonly string[]
  readonly status: ExecutionStatus
  /** Steps taken (retries are not steps). */
  readonly steps: number
  readonly failedTask: string | null
  readonly error: ExecutionError | null
}

/**
 * Walks a flow as an execution would, through the same `advance()`, without running any task:
 * each task ends as `outcomes` says, with `data` as its result data. Input mappings are rendered
 * (a mapping error fails that task run, as it would for real); timeouts and waits take no time.
 */
export function simulate(plan: FlowPlan, options: SimulationOptions = {}): Simulation {
  const input = options.input ?? {}
  const outcomes = options.outcomes ?? {}
  const data = options.data ?? {}
  const results: Record<string, ResultView> = Object.create(null) as Record<string, ResultView>
  const scope = { input, results }
  const path: string[] = []
  let decision = advance(plan, INITIAL_STATE, { type: 'start' })
  while (decision.command.type === 'run_task') {
    const task = decision.command.task
    path.push(task.name)
    const taskData = Object.hasOwn(data, task.name) ? data[task.name] : undefined
    let result: TaskResult
    const mapped = task.inputMapping === undefined ? undefined : renderInput(task.inputMapping, scope)
    if (mapped !== undefined && !mapped.ok) {
      result = { status: 'failure', error: { message: `the input of task "${task.name}" could not be mapped: ${mapped.message}`, code: 'INPUT_MAPPING_ERROR', retryable: false } }
    } else if (Object.hasOwn(outcomes, task.name) && outcomes[task.name] === 'failure') {
      result = taskData === undefined ? { status: 'failure', error: { message: 'simulated failure' } } : { status: 'failure', error: { message: 'simulated failure' }, data: taskData }
    } else {
      result = taskData === undefined ? { status: 'success' } : { status: 'success', data: taskData }
    }
    results[task.name] = { status: result.status, data: result.data ?? null, error: result.status === 'failure' ? result.error.message : null }
    decision = advance(plan, decision.state, { type: 'task_finished', result, scope })
  }
  const s = decision.state
  return { path, status: s.status, steps: s.steps, failedTask: s.failedTask, error: s.error }
}
