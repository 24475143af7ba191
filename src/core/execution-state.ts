export const EXECUTION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number]
export const TERMINAL_STATUSES: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled']

/** Why an execution failed or was cancelled; `code` is stable, `message` is for people. */
export const EXECUTION_ERROR_CODES = [
  'TASK_FAILED',
  'STEP_LIMIT_EXCEEDED',
  'EXECUTION_CANCELLED',
  'ENGINE_ERROR',
  /** The flow's `timeout_ms` passed, counted from the execution's start (or its last resume). */
  'EXECUTION_TIMEOUT',
  /** A `when` or `cases` expression could not be evaluated (e.g. a missing key) or gave no boolean. */
  'CONDITION_ERROR',
  /** A task run was cut off by crashes too many times in a row (FLOW_MANAGER_MAX_RECOVERIES). */
  'TASK_CRASHED',
  /** Everything the execution stored reached FLOW_MANAGER_EXECUTION_STORAGE_LIMIT. */
  'STORAGE_LIMIT_EXCEEDED',
] as const
export type ExecutionErrorCode = (typeof EXECUTION_ERROR_CODES)[number]
export interface ExecutionError {
  readonly code: ExecutionErrorCode
  readonly message: string
}

/** What a parked task run waits for; times are epoch milliseconds. */
export type WaitingFor =
  | { readonly kind: 'timer'; readonly until: number }
  | { readonly kind: 'signal'; readonly signal: string; readonly timeoutAt: number | null }
  | { readonly kind: 'child' }

/**
 * What a thread is doing. `run`: a task run is in flight. `backoff`: waiting before the next
 * attempt. `parked`: a task run waits for a timer, a signal or a child execution. `group`: a
 * parallel group waiting for its branches. `items`: a for_each task waiting for its item runs.
 */
export type ThreadPhase = 'run' | 'backoff' | 'parked' | 'group' | 'items'

/** How a branch of a group ended, kept until the group joins (and after a failure, for resume). */
export interface BranchOutcome {
  /** The branch's first task: it names the branch. */
  readonly first: string
  /** The branch's last task: where it ended, or where it was stopped. */
  readonly last: string
  readonly status: 'success' | 'failure' | 'cancelled'
  /** When the branch stopped inside a nested group: that group's branches, for a resume. */
  readonly inner?: GroupJoin
}

/** A branch not started yet: at its first task, or (after a resume) where it stopped. */
export interface QueuedBranch {
  readonly first: string
  readonly at: string
  readonly inner?: GroupJoin
}

export interface GroupJoin {
  readonly kind: 'group'
  readonly queue: readonly QueuedBranch[]
  readonly outcomes: readonly BranchOutcome[]
}

export interface ItemsJoin {
  readonly kind: 'items'
  readonly total: number
  /** The next item to start. */
  readonly next: number
  /** Items whose run ended for good (successfully). */
  readonly done: number
}

/**
 * One line of control in an execution: the root thread follows the flow from start_task; each
 * branch of a group and each item of a for_each runs in a thread of its own, whose `parent` is
 * the group's (or for_each's) thread.
 */
export interface Thread {
  readonly id: number
  readonly parent: number | null
  /** For a branch thread: the first task of its branch; null elsewhere. */
  readonly branch: string | null
  /** For an item thread: the item's index; null elsewhere. */
  readonly item: number | null
  readonly task: string
  /** The step (counted toward max_steps) of the task's current run; retries keep it. */
  readonly step: number
  readonly attempt: number
  /** The task run (its sequence number in the execution) this thread is at; a group's or for_each's own run. */
  readonly seq: number
  readonly phase: ThreadPhase
  /** When the thread must be looked at again: a run's timeout, a retry, a timer, a signal's timeout; null for never. */
  readonly wakeAt: number | null
  readonly waiting: WaitingFor | null
  /** Runs of this task at this step cut off by crashes in a row. */
  readonly crashes: number
  readonly join: GroupJoin | ItemsJoin | null
}

/**
 * The part of an execution that routing decides; everything else is recorded by the shell. It is
 * plain JSON, stored with every step, so that any node can take the execution up where it stopped.
 */
export interface ExecutionState {
  readonly status: ExecutionStatus
  /** Task runs that counted as steps (retries do not); the step limit counts from `stepBase`. */
  readonly steps: number
  readonly stepBase: number
  /** The sequence number of the latest task run. */
  readonly seq: number
  readonly failedTask: string | null
  readonly error: ExecutionError | null
  /** When the flow's timeout_ms runs out (epoch ms), or null. */
  readonly deadline: number | null
  /** Threads of a running execution; after a failure, the thread that failed, kept for resume. */
  readonly threads: readonly Thread[]
  readonly nextThread: number
}

/**
 * Builds a thread with one fixed shape. Threads are made on every transition, and spreading one
 * into a literal with changed fields is many times slower than the routing itself.
 */
export function makeThread(
  id: number,
  parent: number | null,
  branch: string | null,
  item: number | null,
  task: string,
  step: number,
  attempt: number,
  seq: number,
  phase: ThreadPhase,
  wakeAt: number | null,
  waiting: WaitingFor | null,
  crashes: number,
  join: GroupJoin | ItemsJoin | null,
): Thread {
  return { id, parent, branch, item, task, step, attempt, seq, phase, wakeAt, waiting, crashes, join }
}

/** The same thread in another phase, waiting for something else, or with its join moved on. */
export function withPhase(t: Thread, phase: ThreadPhase, wakeAt: number | null, waiting: WaitingFor | null = t.waiting, crashes = t.crashes): Thread {
  return makeThread(t.id, t.parent, t.branch, t.item, t.task, t.step, t.attempt, t.seq, phase, wakeAt, waiting, crashes, t.join)
}

export function withJoin(t: Thread, join: GroupJoin | ItemsJoin): Thread {
  return makeThread(t.id, t.parent, t.branch, t.item, t.task, t.step, t.attempt, t.seq, t.phase, t.wakeAt, t.waiting, t.crashes, join)
}

export const INITIAL_STATE: ExecutionState = {
  status: 'pending',
  steps: 0,
  stepBase: 0,
  seq: 0,
  failedTask: null,
  error: null,
  deadline: null,
  threads: [],
  nextThread: 0,
}

export function isTerminal(status: ExecutionStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled'
}

/** True when nothing runs: every thread waits (a retry, a timer, a signal, a child). The lease can go. */
export function isIdle(state: ExecutionState): boolean {
  if (state.status !== 'running') return false
  for (const t of state.threads) if (t.phase === 'run') return false
  return state.threads.length > 0
}

/** The earliest time a thread (or the deadline) needs looking at, or null. */
export function nextWake(state: ExecutionState): number | null {
  if (state.status !== 'running') return null
  let next = state.deadline
  for (const t of state.threads) {
    if (t.wakeAt !== null && (next === null || t.wakeAt < next)) next = t.wakeAt
  }
  return next
}

/** The task shown as "current": the first thread's, or null when nothing runs. */
export function currentTask(state: ExecutionState): string | null {
  if (state.status !== 'running' && state.status !== 'pending') return null
  let found: Thread | undefined
  for (const t of state.threads) {
    if (t.phase === 'group' || t.phase === 'items') continue
    if (found === undefined || t.seq < found.seq) found = t
  }
  return found?.task ?? state.threads[0]?.task ?? null
}
