import type { FlowRetry, Outcome } from './flow-schema.js'

/** Where a condition may send an execution: a task of the flow, or `end`. */
type Target<Task extends string> = NoInfer<Task> | 'end'

/** A task of a flow written in TypeScript; `Task` is the union of the flow's task names. */
export interface TypedFlowTask<Task extends string> {
  readonly name: Task
  readonly type?: string
  readonly description?: string
  readonly input?: Readonly<Record<string, unknown>>
  readonly retry?: FlowRetry
  readonly timeout_ms?: number
}

interface ConditionBase<Task extends string> {
  readonly name: string
  readonly description?: string
  readonly source_task: NoInfer<Task>
}

/** A condition by status, by a CEL expression, or multi-way; every target is a task of the flow or `end`. */
export type TypedFlowCondition<Task extends string> =
  | (ConditionBase<Task> & { readonly outcome: Outcome; readonly target_task_success: Target<Task>; readonly target_task_failure: Target<Task> })
  | (ConditionBase<Task> & { readonly when: string; readonly target_task_success: Target<Task>; readonly target_task_failure: Target<Task> })
  | (ConditionBase<Task> & { readonly cases: readonly { readonly when: string; readonly target: Target<Task> }[]; readonly default: Target<Task> })

/** A flow whose task names are known to the compiler: `start_task`, `source_task` and targets must be among them. */
export interface TypedFlow<Task extends string = string> {
  readonly id: string
  readonly name: string
  readonly description?: string
  readonly start_task: NoInfer<Task>
  readonly tasks: readonly TypedFlowTask<Task>[]
  readonly conditions: readonly TypedFlowCondition<Task>[]
  readonly max_steps?: number
  readonly timeout_ms?: number
}

/**
 * Writes a flow in TypeScript with the compiler checking it: a misspelt key (`start_tsk`), a
 * missing field, or a `start_task`, `source_task` or target that names no task of the flow is a
 * compile error. The task names are taken from `tasks` alone. It returns the flow unchanged:
 * the engine still validates it in full (expressions, types, reachability) when it is registered
 * or run. Needs TypeScript 5.4 or newer.
 */
export function defineFlow<const Task extends string>(flow: TypedFlow<Task>): TypedFlow<Task> {
  return flow
}
