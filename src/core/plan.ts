import { compileExpression, type CompiledExpression } from './expression.js'
import { DEFAULT_FOR_EACH_CONCURRENCY, DEFAULT_MAX_STEPS, END, RETRY_DEFAULTS, type Flow, type FlowCondition, type FlowRetry } from './flow-schema.js'
import { compileInput, type InputMapping } from './input-mapping.js'
import { isSystemTaskType, type SystemTaskType } from './system-tasks.js'

/** A parallel group: its branches' first tasks, how it joins, and how many branches run at once. */
export interface PlanGroup {
  readonly members: readonly string[]
  readonly join: 'all' | 'any'
  readonly maxConcurrency: number
}

/** A for_each task: the list expression and how many item runs go at once. */
export interface PlanForEach {
  readonly expression: CompiledExpression
  readonly maxConcurrency: number
}

/** A retry policy with its defaults filled in. */
export interface RetryPolicy {
  readonly maxAttempts: number
  readonly backoffMs: number
  readonly backoffFactor: number
  readonly maxBackoffMs: number
  readonly jitter: boolean
}

/** Routing on data: a `when` condition or `cases`, each expression compiled once. */
export type DataRoute =
  | { readonly kind: 'when'; readonly condition: string; readonly expression: CompiledExpression; readonly ifTrue: string; readonly ifFalse: string }
  | {
      readonly kind: 'cases'
      readonly condition: string
      readonly cases: readonly { readonly expression: CompiledExpression; readonly target: string }[]
      readonly otherwise: string
    }

/** A task with its routing resolved: where to go after success and after failure. */
export interface PlanTask {
  readonly name: string
  /** The task type; `parallel` for a group. */
  readonly type: string
  /** Set for a parallel group, which runs no code of its own. */
  readonly group: PlanGroup | undefined
  /** Set for a for_each task. */
  readonly forEach: PlanForEach | undefined
  /** Set when the type is one the engine carries out itself (wait, wait_for_signal, subflow). */
  readonly system: SystemTaskType | undefined
  /** The task's declared input; undefined means it receives the execution input. */
  readonly input: Readonly<Record<string, unknown>> | undefined
  /** The input's `${…}` expressions compiled; undefined when it has none (the input is passed as it is). */
  readonly inputMapping: InputMapping | undefined
  readonly condition: FlowCondition | undefined
  /** For an `outcome` condition: next task name, `end`, or null when the task has no condition (the flow ends). */
  readonly onSuccess: string | null
  readonly onFailure: string | null
  /** Set for a `when` or `cases` condition, which routes on data instead of onSuccess/onFailure. */
  readonly route: DataRoute | undefined
  readonly retry: RetryPolicy | undefined
  /** Longest one attempt may run, in ms; undefined for no limit. */
  readonly timeoutMs: number | undefined
}

/** A validated flow compiled for fast stepping: O(1) routing per transition. */
export interface FlowPlan {
  readonly flow: Flow
  readonly tasks: ReadonlyMap<string, PlanTask>
  readonly startTask: string
  readonly maxSteps: number
  /** Longest the execution may run from its start, in ms; undefined for no limit. */
  readonly timeoutMs: number | undefined
  /** Largest task input (after mapping) or composed result, in bytes of JSON. */
  readonly dataLimit: number
}

export interface CompileOptions {
  /** Largest task input after mapping, and largest composed result of a group or for_each, in bytes. Default 1 MiB. */
  readonly dataLimit?: number
}

export const DEFAULT_DATA_LIMIT = 1024 * 1024

/** Compiles a flow that `parseFlow` accepted; every expression is compiled here, once. */
export function compileFlow(flow: Flow, options: CompileOptions = {}): FlowPlan {
  const conditions = new Map<string, FlowCondition>()
  for (const condition of flow.conditions) conditions.set(condition.source_task, condition)
  const tasks = new Map<string, PlanTask>()
  for (const task of flow.tasks) {
    const condition = conditions.get(task.name)
    let onSuccess: string | null = null
    let onFailure: string | null = null
    let route: DataRoute | undefined
    if (condition !== undefined) {
      route = dataRoute(condition)
      if (route === undefined) {
        const matchOnSuccess = condition.outcome !== 'failure'
        const success = condition.target_task_success ?? END
        const failure = condition.target_task_failure ?? END
        onSuccess = matchOnSuccess ? success : failure
        onFailure = matchOnSuccess ? failure : success
      }
    }
    const type = task.parallel !== undefined ? 'parallel' : (task.type ?? task.name)
    tasks.set(task.name, {
      name: task.name,
      type,
      group:
        task.parallel === undefined
          ? undefined
          : { members: task.parallel, join: task.join ?? 'all', maxConcurrency: task.max_concurrency ?? task.parallel.length },
      forEach:
        task.for_each === undefined
          ? undefined
          : { expression: compiled(task.for_each, 'value'), maxConcurrency: task.max_concurrency ?? DEFAULT_FOR_EACH_CONCURRENCY },
      system: task.parallel === undefined && isSystemTaskType(type) ? type : undefined,
      input: task.input,
      inputMapping: task.input === undefined ? undefined : compileInput(task.input).mapping,
      condition,
      onSuccess,
      onFailure,
      route,
      retry: task.retry === undefined ? undefined : retryPolicy(task.retry),
      timeoutMs: task.timeout_ms,
    })
  }
  return {
    flow,
    tasks,
    startTask: flow.start_task,
    maxSteps: flow.max_steps ?? DEFAULT_MAX_STEPS,
    timeoutMs: flow.timeout_ms,
    dataLimit: options.dataLimit ?? DEFAULT_DATA_LIMIT,
  }
}

export function retryPolicy(retry: FlowRetry): RetryPolicy {
  return {
    maxAttempts: retry.max_attempts ?? RETRY_DEFAULTS.max_attempts,
    backoffMs: retry.backoff_ms ?? RETRY_DEFAULTS.backoff_ms,
    backoffFactor: retry.backoff_factor ?? RETRY_DEFAULTS.backoff_factor,
    maxBackoffMs: retry.max_backoff_ms ?? RETRY_DEFAULTS.max_backoff_ms,
    jitter: retry.jitter ?? RETRY_DEFAULTS.jitter,
  }
}

function dataRoute(condition: FlowCondition): DataRoute | undefined {
  if (condition.when !== undefined) {
    return {
      kind: 'when',
      condition: condition.name,
      expression: compiled(condition.when, 'bool'),
      ifTrue: condition.target_task_success ?? END,
      ifFalse: condition.target_task_failure ?? END,
    }
  }
  if (condition.cases !== undefined) {
    return {
      kind: 'cases',
      condition: condition.name,
      cases: condition.cases.map((c) => ({ expression: compiled(c.when, 'bool'), target: c.target })),
      otherwise: condition.default ?? END,
    }
  }
  return undefined
}

/** A validated flow's expressions compile; should one not, routing on it fails the execution with its reason. */
function compiled(source: string, kind: 'bool' | 'value'): CompiledExpression {
  const result = compileExpression(source, kind)
  if (result.ok) return result.expression
  const message = result.message
  return { source, references: [], evaluate: () => ({ ok: false, message }) }
}

export { END }
