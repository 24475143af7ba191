import type { Command, Decision, RunData, StepScope } from './commands.js'
import type { ResultView } from './expression.js'
import type { ExecutionError, ExecutionState, ExecutionStatus, Thread } from './execution-state.js'
import type { FlowPlan } from './plan.js'
import type { TaskFailure, TaskResult } from './task-result.js'

/** A result decided by the core itself (a timeout, a join), waiting to be routed. */
export interface Settlement {
  readonly thread: number
  readonly result: TaskResult
  readonly data: RunData
}

const NONE: RunData = { from: 'none' }

/**
 * One decision being built: a working copy of the state's threads and counters, the commands
 * issued so far, and the results the core decided within this decision (so that expressions
 * evaluated later in it see them). Used only inside `advance`, which keeps it pure.
 */
export class Transition {
  status: ExecutionStatus
  steps: number
  stepBase: number
  seq: number
  failedTask: string | null
  error: ExecutionError | null
  deadline: number | null
  nextThread: number
  threads: Thread[]
  readonly commands: Command[] = []
  /** Results the core settled and that still have to be routed, in order. */
  readonly pending: Settlement[] = []
  /** Lists of for_each tasks evaluated within this decision, by their run's seq (the shell learns them from start_run). */
  #freshItems: Map<number, readonly unknown[]> | undefined
  #decided: Map<string, ResultView> | undefined
  #sizes: Map<string, number> | undefined
  #merged: StepScope | undefined

  constructor(
    readonly plan: FlowPlan,
    state: ExecutionState,
    readonly at: number,
    readonly base: StepScope,
  ) {
    this.status = state.status
    this.steps = state.steps
    this.stepBase = state.stepBase
    this.seq = state.seq
    this.failedTask = state.failedTask
    this.error = state.error
    this.deadline = state.deadline
    this.nextThread = state.nextThread
    this.threads = state.threads.slice()
  }

  decision(): Decision {
    const state: ExecutionState = {
      status: this.status,
      steps: this.steps,
      stepBase: this.stepBase,
      seq: this.seq,
      failedTask: this.failedTask,
      error: this.error,
      deadline: this.deadline,
      threads: this.threads,
      nextThread: this.nextThread,
    }
    return { state, commands: this.commands }
  }

  get running(): boolean {
    return this.status === 'running'
  }

  find(id: number): Thread | undefined {
    for (const t of this.threads) if (t.id === id) return t
    return undefined
  }

  /** Puts a thread in place of the one with its id, or adds it. */
  put(thread: Thread): void {
    const threads = this.threads
    for (let i = 0; i < threads.length; i++) {
      if ((threads[i] as Thread).id === thread.id) {
        threads[i] = thread
        return
      }
    }
    threads.push(thread)
  }

  remove(id: number): void {
    const i = this.threads.findIndex((t) => t.id === id)
    if (i >= 0) this.threads.splice(i, 1)
  }

  children(parent: number): Thread[] {
    return this.threads.filter((t) => t.parent === parent)
  }

  /** What expressions read now: the event's scope, plus the results decided within this decision. */
  scope(): StepScope {
    if (this.#decided === undefined) return this.base
    if (this.#merged === undefined) {
      const results = Object.assign(Object.create(null) as Record<string, ResultView | undefined>, this.base.results)
      for (const [task, view] of this.#decided) results[task] = view
      this.#merged = { ...this.base, results }
    }
    return this.#merged
  }

  result(task: string): ResultView | undefined {
    return this.#decided?.get(task) ?? this.base.results[task]
  }

  /** Bytes of a task's latest data as JSON, as far as this decision knows. */
  size(task: string): number {
    return this.#sizes?.get(task) ?? this.base.sizes?.get(task) ?? 4
  }

  /** The list of a for_each task whose run began within this decision. */
  freshItems(seq: number): readonly unknown[] | undefined {
    return this.#freshItems?.get(seq)
  }

  rememberItems(seq: number, items: readonly unknown[]): void {
    this.#freshItems ??= new Map()
    this.#freshItems.set(seq, items)
  }

  /** Records a result the core decided, so that later expressions in this decision see it. */
  decide(task: string, view: ResultView, bytes = 0): void {
    this.#sizes ??= new Map()
    this.#sizes.set(task, bytes)
    this.#decided ??= new Map()
    this.#decided.set(task, view)
    this.#merged = undefined
  }

  /** Emits the end of a run; a result the core decided becomes visible to later expressions. */
  finishRun(thread: Thread, status: 'success' | 'failure', error: TaskFailure | null, data: RunData, nextTask: string | null, retryAt: number | null): void {
    this.commands.push({ type: 'finish_run', seq: thread.seq, task: thread.task, status, error, data, nextTask, retryAt, item: thread.item !== null })
    if (data.from !== 'result' && thread.item === null) {
      if (data.from === 'value') this.decide(thread.task, data.view, data.bytes)
      else this.decide(thread.task, { status, data: null, error: error?.message ?? null })
    }
  }

  /** Ends the run of `thread` with a failure the core decided; routing follows from `pending`. */
  settleFailure(thread: Thread, error: TaskFailure): void {
    this.pending.push({ thread: thread.id, result: { status: 'failure', error }, data: NONE })
  }

  settleSuccess(thread: Thread, data: RunData = NONE): void {
    this.pending.push({ thread: thread.id, result: { status: 'success' }, data })
  }

  /** Stops a thread and everything below it; answers how its branch stood, for its group's record. */
  stopTree(thread: Thread, code: string, message: string): void {
    for (const child of this.children(thread.id)) this.stopTree(child, code, message)
    const error: TaskFailure = { message, code, retryable: false }
    switch (thread.phase) {
      case 'run':
        this.commands.push({ type: 'abort_run', seq: thread.seq, code, message })
        this.finishRun(thread, 'failure', error, NONE, null, null)
        break
      case 'parked':
        if (thread.waiting?.kind === 'child') this.commands.push({ type: 'cancel_child', seq: thread.seq })
        this.finishRun(thread, 'failure', error, NONE, null, null)
        break
      case 'group':
      case 'items':
        this.finishRun(thread, 'failure', error, NONE, null, null)
        break
      case 'backoff':
        break
    }
    this.remove(thread.id)
  }

  /** Ends the execution now: every open run is closed with the error's code. */
  stopAll(status: 'failed' | 'cancelled', error: ExecutionError, failedTask: string | null = null): void {
    for (const root of this.threads.filter((t) => t.parent === null)) this.stopTree(root, error.code, error.message)
    this.threads = []
    this.pending.length = 0
    this.end(status, error, failedTask)
  }

  end(status: ExecutionStatus, error: ExecutionError | null, failedTask: string | null): void {
    this.status = status
    this.error = error
    this.failedTask = failedTask
    this.commands.push({ type: 'finish', status })
  }
}
