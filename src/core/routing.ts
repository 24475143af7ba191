import { ExpressionBudget, type ExpressionScope } from './expression.js'
import type { ExecutionError } from './execution-state.js'
import type { DataRoute, RetryPolicy } from './plan.js'
import type { TaskFailure } from './task-result.js'

/** Failures that running the task again cannot mend. */
const NOT_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'INPUT_INVALID',
  'RESULT_INVALID',
  'INPUT_MAPPING_ERROR',
  'TASK_TYPE_NOT_REGISTERED',
  'DATA_TOO_LARGE',
  'FOR_EACH_INVALID',
  'FOR_EACH_TOO_LARGE',
  'FLOW_NOT_FOUND',
  'SUBFLOW_TOO_DEEP',
])

/** True when a failed attempt may be tried again under a retry policy. */
export function isRetryable(error: TaskFailure): boolean {
  return error.retryable !== false && (error.code === undefined || !NOT_RETRYABLE_CODES.has(error.code))
}

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
  return { code: 'CONDITION_ERROR', message: `condition "${condition}" could not decide: ${clip(source)}: ${why}` }
}

export const clip = (source: string, max = 200): string => (source.length > max ? `${source.slice(0, max)}…` : source)

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`
}
