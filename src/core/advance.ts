import { END } from './flow-schema.js'
import type { FlowPlan, PlanTask } from './plan.js'
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
}

/** Builds a state with one fixed shape: spreads on the hot path cost more than the routing itself. */
function makeState(
  status: ExecutionStatus,
  currentTask: string | null,
  steps: number,
  stepBase: number,
  failedTask: string | null,
  error: ExecutionError | null,
): ExecutionState {
  return { status, currentTask, steps, stepBase, failedTask, error }
}

export const INITIAL_STATE: ExecutionState = makeState('pending', null, 0, 0, null, null)

export type EngineEvent =
  | { readonly type: 'start' }
  | { readonly type: 'task_finished'; readonly result: TaskResult }
  | { readonly type: 'cancel'; readonly reason?: string }
  | { readonly type: 'fail'; readonly error: ExecutionError }
  | { readonly type: 'resume' }

export type Command =
  | { readonly type: 'run_task'; readonly task: PlanTask; readonly step: number }
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
      return afterTask(plan, state, event.result)
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

function afterTask(plan: FlowPlan, state: ExecutionState, result: TaskResult): Decision {
  const name = state.currentTask
  const task = name === null ? undefined : plan.tasks.get(name)
  if (state.status !== 'running' || task === undefined) return { state, command: NONE }
  const target = result.status === 'success' ? task.onSuccess : task.onFailure
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
  const command: Command = { type: 'run_task', task, step }
  return routedTo === undefined ? { state: next, command } : { state: next, command, routedTo }
}
