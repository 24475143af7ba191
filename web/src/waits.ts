import type { FlowTask, TaskRunView } from './api.js'

/**
 * What a task run waits for, in words people read: a planned retry, a timer, a signal or a
 * sub-flow's child execution. The graph, the timeline, the event list and the task runs all say it
 * the same way.
 */
export type Wait =
  | { readonly kind: 'retry'; readonly at: string; readonly attempt: number; readonly maxAttempts: number | undefined }
  | { readonly kind: 'timer'; readonly until: string }
  | { readonly kind: 'signal'; readonly signal: string; readonly timeoutAt: string | undefined }
  | { readonly kind: 'child'; readonly executionId: string }

/** Attempts a task may make, from its retry policy (default 3 with a policy, 1 without); undefined when the definition is unknown. */
export function maxAttemptsOf(task: FlowTask | undefined): number | undefined {
  if (task === undefined) return undefined
  return task.retry === undefined ? 1 : (task.retry.max_attempts ?? 3)
}

/** The wait of a parked run, from its `waiting_for`. */
export function parkedWait(run: TaskRunView): Wait | undefined {
  const w = run.waiting_for
  if (w === null) return undefined
  if ('timer' in w) return { kind: 'timer', until: w.timer }
  if ('signal' in w) return { kind: 'signal', signal: w.signal, timeoutAt: w.timeout_at }
  return { kind: 'child', executionId: w.child }
}

/** The child execution a subflow run started: while it waits, and once it has ended (its data names it). */
export function childOf(run: TaskRunView): string | undefined {
  if (run.waiting_for !== null && 'child' in run.waiting_for) return run.waiting_for.child
  const data = run.data as { execution_id?: unknown } | null
  return run.task_type === 'subflow' && typeof data?.execution_id === 'string' ? data.execution_id : undefined
}

/** "18 s", "2 min 5 s", "3 h 20 min": a countdown rounded up to the second, so it never says "0 s" early. */
export function formatIn(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h} h ${m % 60} min`
  return `${Math.floor(h / 24)} d ${h % 24} h`
}

/** "(attempt 2 of 4)", or "(attempt 2)" when the policy is unknown. */
export const attemptText = (attempt: number, max: number | undefined): string => `(attempt ${attempt}${max === undefined ? '' : ` of ${max}`})`

/** "retrying in 18 s (attempt 2 of 4)", counting down to `at` on the server's clock `now`. */
export function retryText(wait: { at: string; attempt: number; maxAttempts: number | undefined }, now: number): string {
  const left = Date.parse(wait.at) - now
  return `${left > 0 ? `retrying in ${formatIn(left)}` : 'retrying now'} ${attemptText(wait.attempt, wait.maxAttempts)}`
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
const dated = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })
/** A time near now as a clock reading, with the date when it is further than a day. */
export function clockTime(iso: string, now: number): string {
  const t = Date.parse(iso)
  return Math.abs(t - now) < 86_400_000 ? clock.format(t) : dated.format(t)
}

/** One line about a wait, e.g. `signal "approval" · times out in 59 s`, `until 12:00:05 (in 18 s)`. */
export function waitText(wait: Wait, now: number): string {
  switch (wait.kind) {
    case 'retry':
      return retryText(wait, now)
    case 'timer': {
      const left = Date.parse(wait.until) - now
      return `waiting until ${clockTime(wait.until, now)} (${left > 0 ? `in ${formatIn(left)}` : 'due now'})`
    }
    case 'signal': {
      if (wait.timeoutAt === undefined) return `waiting for signal "${wait.signal}"`
      const left = Date.parse(wait.timeoutAt) - now
      return `waiting for signal "${wait.signal}" (times out ${left > 0 ? `in ${formatIn(left)}` : 'now'})`
    }
    case 'child':
      return `waiting for child execution ${wait.executionId}`
  }
}

/** Whether a wait's text changes as time passes (it then re-renders each second). */
export const counts = (wait: Wait | undefined): boolean => wait !== undefined && (wait.kind === 'retry' || wait.kind === 'timer' || (wait.kind === 'signal' && wait.timeoutAt !== undefined))
