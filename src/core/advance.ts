import type { Decision, EngineEvent, RunData, StepScope } from './commands.js'
import { INITIAL_STATE, withPhase, type ExecutionState, type Thread } from './execution-state.js'
import { END } from './flow-schema.js'
import { beginRun, enter, seed } from './begin-run.js'
import { branchEnded, itemEnded } from './joins.js'
import type { FlowPlan, PlanTask } from './plan.js'
import { isRetryable, pickRoute, retryDelay } from './routing.js'
import type { TaskFailure, TaskResult } from './task-result.js'
import { Transition } from './transition.js'

export * from './execution-state.js'
export type * from './commands.js'
export { retryDelay, pickRoute } from './routing.js'

/**
 * The whole of routing, as a pure function: given the compiled flow, the execution's state and
 * what just happened, it returns the next state and every command that follows (runs to start,
 * runs to finish, waits, aborts, the end). It performs no I/O, reads no clock (times come in the
 * event) and takes randomness from the event, so every path can be tested on its own and the
 * simulation walks the same code as the engine.
 */
export function advance(plan: FlowPlan, state: ExecutionState, event: EngineEvent): Decision {
  switch (event.type) {
    case 'start': {
      if (state.status !== 'pending') return unchanged(state)
      const t = new Transition(plan, state, event.at, event.scope)
      start(t)
      return settle(t)
    }
    case 'run_finished': {
      const thread = state.status === 'running' ? openThread(state, event.seq) : undefined
      if (thread === undefined) return unchanged(state)
      const t = new Transition(plan, state, event.at, event.scope)
      if (event.consumes !== undefined && thread.waiting?.kind === 'signal') {
        t.commands.push({ type: 'consume_signal', seq: event.seq, task: thread.task, signal: thread.waiting.signal, signalSeq: event.consumes })
      }
      finished(t, thread, event.result, FROM_RESULT, event.random)
      return settle(t)
    }
    case 'timer': {
      if (state.status !== 'running') return unchanged(state)
      const t = new Transition(plan, state, event.at, event.scope)
      fireDue(t)
      return settle(t)
    }
    case 'cancel':
    case 'fail': {
      if (state.status !== 'running' && state.status !== 'pending') return unchanged(state)
      const t = new Transition(plan, state, event.at, EMPTY_SCOPE)
      if (event.type === 'cancel') t.stopAll('cancelled', { code: 'EXECUTION_CANCELLED', message: event.reason })
      else t.stopAll('failed', event.error)
      return t.decision()
    }
    case 'resume': {
      if (state.status !== 'failed' || state.failedTask === null) return unchanged(state)
      const t = new Transition(plan, state, event.at, event.scope)
      revive(t, state)
      return settle(t)
    }
    case 'recover': {
      if (state.status === 'pending') return advance(plan, state, { type: 'start', at: event.at, scope: event.scope })
      if (state.status !== 'running') return unchanged(state)
      const t = new Transition(plan, state, event.at, event.scope)
      recover(t, event.handedBack === true ? Infinity : event.maxRecoveries, event.handedBack === true ? 0 : 1)
      if (t.running) fireDue(t)
      return settle(t)
    }
    case 'suspend': {
      if (state.status !== 'running') return unchanged(state)
      const t = new Transition(plan, state, event.at, EMPTY_SCOPE)
      for (const thread of t.threads.slice()) {
        if (thread.phase !== 'run') continue
        t.commands.push({ type: 'interrupt_run', seq: thread.seq, task: thread.task, attempt: thread.attempt })
        t.put(withPhase(thread, 'backoff', event.at))
      }
      return t.decision()
    }
  }
}

const EMPTY_SCOPE: StepScope = { input: null, results: {} }
const FROM_RESULT: RunData = { from: 'result' }
const unchanged = (state: ExecutionState): Decision => ({ state, commands: [] })

/** The thread whose open run (in flight or parked) is `seq`. */
export function openThread(state: ExecutionState, seq: number): Thread | undefined {
  for (const t of state.threads) if (t.seq === seq && (t.phase === 'run' || t.phase === 'parked')) return t
  return undefined
}

function start(t: Transition): void {
  t.status = 'running'
  t.deadline = t.plan.timeoutMs === undefined ? null : t.at + t.plan.timeoutMs
  enter(t, seed(t, null, null), t.plan.startTask)
}

/** Routes the results the core settled within this decision, one after the other (no recursion). */
function settle(t: Transition): Decision {
  for (let next = t.pending.shift(); next !== undefined && t.running; next = t.pending.shift()) {
    const thread = t.find(next.thread)
    if (thread !== undefined) finished(t, thread, next.result, next.data)
  }
  return t.decision()
}

/** A run of `thread` ended with `result`: retry it, route on, or end the thread. */
function finished(t: Transition, thread: Thread, result: TaskResult, data: RunData, random?: number): void {
  const task = t.plan.tasks.get(thread.task) as PlanTask
  const retry = task.retry
  const runsCode = thread.phase === 'run' || thread.phase === 'parked' || thread.phase === 'backoff'
  if (result.status === 'failure' && runsCode && retry !== undefined && thread.attempt < retry.maxAttempts && isRetryable(result.error)) {
    const delay = retryDelay(retry, thread.attempt, random)
    const wakeAt = t.at + delay
    t.finishRun(thread, 'failure', result.error, data, task.name, wakeAt)
    const next = { id: thread.id, parent: thread.parent, branch: thread.branch, item: thread.item, crashes: 0 }
    if (delay <= 0) beginRun(t, next, task, thread.step, thread.attempt + 1)
    else t.put(withPhase(thread, 'backoff', wakeAt, null, 0))
    return
  }
  const error = result.status === 'failure' ? result.error : null
  if (thread.item !== null) {
    t.finishRun(thread, result.status, error, data, null, null)
    itemEnded(t, thread, result)
    return
  }
  let target: string | null
  if (task.route === undefined) {
    target = result.status === 'success' ? task.onSuccess : task.onFailure
  } else {
    // The condition reads this run's result: a result the core decided is made visible first.
    if (data.from === 'value') t.decide(task.name, data.view, data.bytes)
    else if (data.from === 'none') t.decide(task.name, { status: result.status, data: null, error: error?.message ?? null })
    const picked = pickRoute(task.route, t.scope())
    if (typeof picked !== 'string') {
      t.finishRun(thread, result.status, error, data, null, null)
      t.stopAll('failed', picked)
      return
    }
    target = picked
  }
  t.finishRun(thread, result.status, error, data, target, null)
  if (target === null || target === END) {
    threadEnded(t, thread, result.status, error)
    return
  }
  // The thread leaves its finished run: should entering the next task fail the execution, nothing is left open.
  t.remove(thread.id)
  enter(t, { id: thread.id, parent: thread.parent, branch: thread.branch, item: null, crashes: 0 }, target)
}

/** A thread reached `end` (or a task without a condition): its branch, or the execution, is over. */
function threadEnded(t: Transition, thread: Thread, status: 'success' | 'failure', error: TaskFailure | null): void {
  t.remove(thread.id)
  const parent = thread.parent === null ? undefined : t.find(thread.parent)
  if (parent === undefined) {
    if (status === 'success') {
      t.end('completed', null, null)
      t.threads = []
    } else {
      t.end('failed', { code: 'TASK_FAILED', message: `task "${thread.task}" failed: ${error?.message ?? 'no reason given'}` }, thread.task)
      // Kept for a resume: a group keeps how each of its branches ended.
      t.threads = [thread]
    }
    return
  }
  branchEnded(t, parent, thread, status, error)
}

/** Fires whatever is due at the transition's time: the deadline, then timeouts, retries, timers. */
function fireDue(t: Transition): void {
  if (t.deadline !== null && t.at >= t.deadline) {
    const ms = t.plan.timeoutMs ?? 0
    t.stopAll('failed', { code: 'EXECUTION_TIMEOUT', message: `the execution ran over the flow's timeout_ms (${ms} ms)` })
    return
  }
  const due = t.threads.filter((thread) => thread.wakeAt !== null && thread.wakeAt <= t.at).sort((a, b) => (a.wakeAt as number) - (b.wakeAt as number) || a.id - b.id)
  for (const d of due) {
    const thread = t.find(d.id)
    if (thread === undefined || thread !== d || !t.running) continue
    const task = t.plan.tasks.get(thread.task) as PlanTask
    if (thread.phase === 'run') {
      const message = `task "${task.name}" ran over its timeout_ms (${task.timeoutMs ?? 0} ms) and was cancelled`
      t.commands.push({ type: 'abort_run', seq: thread.seq, code: 'TASK_TIMEOUT', message })
      t.settleFailure(thread, { message, code: 'TASK_TIMEOUT' })
      t.put(withPhase(thread, thread.phase, null))
    } else if (thread.phase === 'backoff') {
      beginRun(t, { id: thread.id, parent: thread.parent, branch: thread.branch, item: thread.item, crashes: thread.crashes }, task, thread.step, thread.attempt + 1)
    } else if (thread.phase === 'parked' && thread.waiting?.kind === 'timer') {
      t.put(withPhase(thread, thread.phase, null))
      t.settleSuccess(thread)
    } else if (thread.phase === 'parked' && thread.waiting?.kind === 'signal') {
      t.put(withPhase(thread, thread.phase, null))
      t.settleFailure(thread, { message: `no signal "${thread.waiting.signal}" came within timeout_ms`, code: 'SIGNAL_TIMEOUT' })
    }
  }
}

/**
 * Runs in flight when the previous owner stopped are cut off: run again as their next attempt, or
 * TASK_CRASHED. `counted` is 1 for a crash, 0 for runs handed back by a live owner.
 */
function recover(t: Transition, maxRecoveries: number, counted: 0 | 1): void {
  const cut = t.threads.filter((thread) => thread.phase === 'run')
  const crashed = cut.find((thread) => thread.crashes + 1 >= maxRecoveries)
  if (crashed !== undefined) {
    // Each cut-off run is closed once, as a failure that says why: not interrupted, then failed.
    t.stopAll('failed', {
      code: 'TASK_CRASHED',
      message: `task "${crashed.task}" was cut off by a crash ${crashed.crashes + 1} times in a row (the limit is ${maxRecoveries}, FLOW_MANAGER_MAX_RECOVERIES), so the execution was failed rather than run again; a task that kills its process must not take nodes down one after the other`,
    }, crashed.task)
    return
  }
  for (const thread of cut) {
    t.commands.push({ type: 'interrupt_run', seq: thread.seq, task: thread.task, attempt: thread.attempt })
    const task = t.plan.tasks.get(thread.task) as PlanTask
    beginRun(t, { id: thread.id, parent: thread.parent, branch: thread.branch, item: thread.item, crashes: thread.crashes + counted }, task, thread.step, thread.attempt + 1)
  }
}

/** Resume: the failed task runs again; a failed group goes on with the branches that did not succeed. */
function revive(t: Transition, state: ExecutionState): void {
  const failedTask = state.failedTask as string
  const frozen = state.threads[0]
  t.status = 'running'
  t.stepBase = t.steps
  t.failedTask = null
  t.error = null
  t.deadline = t.plan.timeoutMs === undefined ? null : t.at + t.plan.timeoutMs
  t.threads = []
  const inner = frozen !== undefined && frozen.task === failedTask && frozen.join?.kind === 'group' ? frozen.join : undefined
  enter(t, seed(t, null, null), failedTask, inner)
}

export { INITIAL_STATE }
