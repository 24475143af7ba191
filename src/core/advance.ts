import { ExpressionBudget, type ExpressionScope } from './expression.js'
import { END } from './flow-schema.js'
import type { DataRoute, FlowPlan, PlanTask, RetryPolicy } from './plan.js'
import type { TaskResult } from './task-result.js'

export const EXECUTION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number]
export const TERMINAL_STATUSES: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled']

/** Why an execution failed or was cancelled; `code` is stable, `message` is for people. */
export const EXECUTION_ERROR_CODES = [
  'TASK_FAILED',
  'STEP_LIMIT_EXCEEDED',
  'EXECUTION_CANCELLED',
  'ENGINE_ERROR',
  /** The flow's `timeout_ms` passed; the shell measures it from the execution's start. */
  'EXECUTION_TIMEOUT',
  /** A `when` or `cases` expression could not be evaluated (e.g. a missing key) or gave no boolean. */
  'CONDITION_ERROR',
] as const
export type ExecutionErrorCode = (typeof EXECUTION_ERROR_CODES)[number]
export interface ExecutionError {
  readonly code: ExecutionErrorCode
  readonly message: string
}

/** The part of an execution that routing decides; everything else is recorded by the shell. */
export interface ExecutionState {
  readonly status: ExecutionStatus
  /** The task that is running (or about to run); null before the start and after the end. */
  readonly currentTask: string | null
  /** Task runs started so far, the resumed ones included; also the sequence number of the latest. */
  readonly steps: number
  /** `steps` when the execution was last resumed: the step limit counts from here. */
  readonly stepBase: number
  readonly failedTask: string | null
  readonly error: ExecutionError | null
  /** The attempt of the current task's run: 1, then one more for each retry (not stored; recovered from the task runs). */
  readonly attempt: number
}

/** Builds a state with one fixed shape: spreads on the hot path cost more than the routing itself. */
function makeState(
  status: ExecutionStatus,
  currentTask: string | null,
  steps: number,
  stepBase: number,
  failedTask: string | null,
  error: ExecutionError | null,
  attempt = 1,
): ExecutionState {
  return { status, currentTask, steps, stepBase, failedTask, error, attempt }
}

export const INITIAL_STATE: ExecutionState = makeState('pending', null, 0, 0, null, null)

export type EngineEvent =
  | { readonly type: 'start' }
  | {
      readonly type: 'task_finished'
      readonly result: TaskResult
      /** What `when` and `cases` expressions read; the finished task's result already in `results`. */
      readonly scope?: ExpressionScope
      /** A number in [0, 1) from the shell, for retry jitter; absent means the full backoff. */
      readonly random?: number
    }
  | { readonly type: 'cancel'; readonly reason?: string }
  | { readonly type: 'fail'; readonly error: ExecutionError }
  | { readonly type: 'resume' }

export type Command =
  | {
      readonly type: 'run_task'
      readonly task: PlanTask
      readonly step: number
      /** 1 for a task's first run at this step, one more for each retry. */
      readonly attempt: number
      /** How long to wait before this run, in ms: 0 except before a retry (the backoff). */
      readonly delayMs: number
    }
  | { readonly type: 'finish' }
  | { readonly type: 'none' }

export interface Decision {
  readonly state: ExecutionState
  readonly command: Command
  /** After task_finished: where the condition routed (`end`, a task, or null for no condition). */
  readonly routedTo?: string | null
}

const NONE: Command = { type: 'none' }
const FINISH: Command = { type: 'finish' }

export function isTerminal(status: ExecutionStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled'
}

/**
 * The whole of routing (SPEC §2), as a pure function: given the compiled flow, the execution's
 * state and what just happened, it returns the next state and the one thing to do next.
 * It performs no I/O and reads no clock, so every route can be tested on its own.
 */
export function advance(plan: FlowPlan, state: ExecutionState, event: EngineEvent): Decision {
  switch (event.type) {
    case 'start':
      if (state.status !== 'pending') return { state, command: NONE }
      return runNext(plan, makeState('running', null, state.steps, state.stepBase, state.failedTask, state.error), plan.startTask)
    case 'task_finished':
      return afterTask(plan, state, event)
    case 'cancel':
      if (isTerminal(state.status)) return { state, command: NONE }
      return {
        state: makeState('cancelled', null, state.steps, state.stepBase, state.failedTask, {
          code: 'EXECUTION_CANCELLED',
          message: event.reason ?? 'the execution was cancelled',
        }),
        command: FINISH,
      }
    case 'fail':
      if (isTerminal(state.status)) return { state, command: NONE }
      return { state: makeState('failed', null, state.steps, state.stepBase, state.failedTask, event.error), command: FINISH }
    case 'resume': {
      if (state.status !== 'failed' || state.failedTask === null) return { state, command: NONE }
      const from = state.failedTask
      // A resumed execution gets a fresh step budget: the limit guards against loops, not retries by hand.
      return runNext(plan, makeState('running', null, state.steps, state.steps, null, null), from)
    }
  }
}

/** Failures that running the task again cannot mend. */
const NOT_RETRYABLE_CODES: ReadonlySet<string> = new Set(['INPUT_INVALID', 'RESULT_INVALID', 'INPUT_MAPPING_ERROR', 'TASK_TYPE_NOT_REGISTERED'])

function afterTask(plan: FlowPlan, state: ExecutionState, event: Extract<EngineEvent, { type: 'task_finished' }>): Decision {
  const name = state.currentTask
  const task = name === null ? undefined : plan.tasks.get(name)
  if (state.status !== 'running' || task === undefined) return { state, command: NONE }
  const result = event.result
  if (result.status === 'failure' && task.retry !== undefined && state.attempt < task.retry.maxAttempts) {
    const error = result.error
    if (error.retryable !== false && (error.code === undefined || !NOT_RETRYABLE_CODES.has(error.code))) {
      // The same task at the same step: a retry does not use up a step of max_steps.
      const delayMs = retryDelay(task.retry, state.attempt, event.random)
      const next = makeState(state.status, task.name, state.steps, state.stepBase, state.failedTask, state.error, state.attempt + 1)
      return { state: next, command: { type: 'run_task', task, step: state.steps, attempt: state.attempt + 1, delayMs }, routedTo: task.name }
    }
  }
  let target: string | null
  if (task.route === undefined) {
    target = result.status === 'success' ? task.onSuccess : task.onFailure
  } else {
    const picked = pickRoute(task.route, event.scope ?? EMPTY_SCOPE)
    if (typeof picked !== 'string') {
      const failed = makeState('failed', null, state.steps, state.stepBase, state.failedTask, picked)
      return { state: failed, command: FINISH, routedTo: null }
    }
    target = picked
  }
  if (target === null || target === END) {
    const finished =
      result.status === 'success'
        ? makeState('completed', null, state.steps, state.stepBase, state.failedTask, state.error)
        : makeState('failed', null, state.steps, state.stepBase, task.name, {
            code: 'TASK_FAILED',
            message: `task "${task.name}" failed: ${result.error.message}`,
          })
    return { state: finished, command: FINISH, routedTo: target }
  }
  return runNext(plan, state, target, target)
}

const EMPTY_SCOPE: ExpressionScope = { input: null, results: {} }

/**
 * The wait before the attempt after `attempt`: backoff_ms × backoff_factor^(attempt−1), at most
 * max_backoff_ms; with jitter, a share between 50% and 100% of it chosen by `random` ("equal
 * jitter": retries spread out yet never come sooner than half the backoff).
 */
export function retryDelay(retry: RetryPolicy, attempt: number, random?: number): number {
  const full = Math.min(retry.maxBackoffMs, retry.backoffMs * retry.backoffFactor ** (attempt - 1))
  if (!retry.jitter || random === undefined) return Math.round(full)
  const r = Number.isFinite(random) ? Math.min(Math.max(random, 0), 1) : 1
  return Math.round(full * (0.5 + 0.5 * r))
}

/** The target a `when` or `cases` condition picks, or the error that fails the execution. */
export function pickRoute(route: DataRoute, scope: ExpressionScope): string | ExecutionError {
  if (route.kind === 'when') {
    const value = route.expression.evaluate(scope)
    if (!value.ok) return conditionError(route.condition, route.expression.source, value.message)
    if (typeof value.value !== 'boolean') return conditionError(route.condition, route.expression.source, `it gave ${describe(value.value)}, not true or false`)
    return value.value ? route.ifTrue : route.ifFalse
  }
  // One decision, one expression budget, however many cases it tries.
  const budget = new ExpressionBudget()
  for (const c of route.cases) {
    const value = c.expression.evaluate(scope, budget)
    if (!value.ok) return conditionError(route.condition, c.expression.source, value.message)
    if (value.value === true) return c.target
    if (value.value !== false) return conditionError(route.condition, c.expression.source, `it gave ${describe(value.value)}, not true or false`)
  }
  return route.otherwise
}

function conditionError(condition: string, source: string, why: string): ExecutionError {
  const shown = source.length > 200 ? `${source.slice(0, 200)}…` : source
  return { code: 'CONDITION_ERROR', message: `condition "${condition}" could not decide: ${shown}: ${why}` }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`
}

/**
 * The command that runs the current task again at the same step as the given attempt, e.g. after
 * a crash cut a task run off (recovery) or after a retry's wait. Fails the execution when the
 * state names no task of the flow.
 */
export function rerun(plan: FlowPlan, state: ExecutionState, attempt: number): Decision {
  const task = state.currentTask === null ? undefined : plan.tasks.get(state.currentTask)
  if (task === undefined || state.status !== 'running') {
    return advance(plan, state, { type: 'fail', error: { code: 'ENGINE_ERROR', message: 'recovered an execution with no current task' } })
  }
  const next = makeState(state.status, task.name, state.steps, state.stepBase, state.failedTask, state.error, attempt)
  return { state: next, command: { type: 'run_task', task, step: state.steps, attempt, delayMs: 0 } }
}

function runNext(plan: FlowPlan, state: ExecutionState, name: string, routedTo?: string): Decision {
  const task = plan.tasks.get(name)
  let error: ExecutionError | undefined
  if (task === undefined) {
    // parseFlow rules this out; kept so that a corrupted record fails the execution instead of the engine.
    error = { code: 'ENGINE_ERROR', message: `the flow has no task "${name}"` }
  } else if (state.steps - state.stepBase >= plan.maxSteps) {
    error = {
      code: 'STEP_LIMIT_EXCEEDED',
      message: `the execution reached max_steps (${plan.maxSteps}) before task "${name}" could run; raise max_steps or break the loop`,
    }
  }
  if (task === undefined || error !== undefined) {
    const failed = makeState('failed', null, state.steps, state.stepBase, state.failedTask, error ?? null)
    return routedTo === undefined ? { state: failed, command: FINISH } : { state: failed, command: FINISH, routedTo }
  }
  const step = state.steps + 1
  const next = makeState(state.status, name, step, state.stepBase, state.failedTask, state.error)
  const command: Command = { type: 'run_task', task, step, attempt: 1, delayMs: 0 }
  return routedTo === undefined ? { state: next, command } : { state: next, command, routedTo }
}
