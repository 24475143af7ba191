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

export const INITIAL_STATE: ExecutionState = { status: 'pending', currentTask: null, steps: 0, stepBase: 0, failedTask: null, error: null }

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
      return runNext(plan, { ...state, status: 'running' }, plan.startTask)
    case 'task_finished':
      return afterTask(plan, state, event.result)
    case 'cancel':
      if (isTerminal(state.status)) return { state, command: NONE }
      return {
        state: {
          ...state,
          status: 'cancelled',
          currentTask: null,
          error: { code: 'EXECUTION_CANCELLED', message: event.reason ?? 'the execution was cancelled' },
        },
        command: FINISH,
      }
    case 'fail':
      if (isTerminal(state.status)) return { state, command: NONE }
      return { state: { ...state, status: 'failed', currentTask: null, error: event.error }, command: FINISH }
    case 'resume': {
      if (state.status !== 'failed' || state.failedTask === null) return { state, command: NONE }
      const from = state.failedTask
      // A resumed execution gets a fresh step budget: the limit guards against loops, not retries by hand.
      return runNext(plan, { ...state, status: 'running', failedTask: null, error: null, stepBase: state.steps }, from)
    }
  }
}

function afterTask(plan: FlowPlan, state: ExecutionState, result: TaskResult): Decision {
  const name = state.currentTask
  const task = name === null ? undefined : plan.tasks.get(name)
  if (state.status !== 'running' || task === undefined) return { state, command: NONE }
  const target = result.status === 'success' ? task.onSuccess : task.onFailure
  if (target === null || target === END) {
    const finished: ExecutionState =
      result.status === 'success'
        ? { ...state, status: 'completed', currentTask: null }
        : {
            ...state,
            status: 'failed',
            currentTask: null,
            failedTask: task.name,
            error: { code: 'TASK_FAILED', message: `task "${task.name}" failed: ${result.error.message}` },
          }
    return { state: finished, command: FINISH, routedTo: target }
  }
  return { ...runNext(plan, state, target), routedTo: target }
}

function runNext(plan: FlowPlan, state: ExecutionState, name: string): Decision {
  const task = plan.tasks.get(name)
  if (task === undefined) {
    // parseFlow rules this out; kept so that a corrupted record fails the execution instead of the engine.
    const error: ExecutionError = { code: 'ENGINE_ERROR', message: `the flow has no task "${name}"` }
    return { state: { ...state, status: 'failed', currentTask: null, error }, command: FINISH }
  }
  if (state.steps - state.stepBase >= plan.maxSteps) {
    const error: ExecutionError = {
      code: 'STEP_LIMIT_EXCEEDED',
      message: `the execution reached max_steps (${plan.maxSteps}) before task "${name}" could run; raise max_steps or break the loop`,
    }
    return { state: { ...state, status: 'failed', currentTask: null, error }, command: FINISH }
  }
  const step = state.steps + 1
  return { state: { ...state, currentTask: name, steps: step }, command: { type: 'run_task', task, step } }
}
