import { advance } from '../core/advance.js'
import type { Command, EngineEvent as CoreEvent, StartRun } from '../core/commands.js'
import { isIdle, isTerminal, nextWake, type ExecutionError, type ExecutionState } from '../core/execution-state.js'
import type { FlowPlan } from '../core/plan.js'
import { ScopeKeeper } from '../core/scope-keeper.js'
import type { NormalizedResult, TaskFailure, TaskResult } from '../core/task-result.js'
import { applyRunWrite } from '../store/run-records.js'
import { LeaseLostError, type ExecutionDetail, type ExecutionRecord, type NewExecution, type StepWrite, type TaskRunRecord } from '../store/store.js'
import type { ActorEnv, ExecutionIdentity } from './actor-env.js'
import { describeCommands } from './step-log.js'
import { buildStep, type CodeOutcome, type LeadingEvent, type OpenRunInfo } from './step-writer.js'
import type { Running, RunOutcome } from './scheduler.js'
import type { TimerHandle } from './timers.js'

/** Something for the actor to decide on, in the order it arrived. */
export type Mail =
  | { readonly kind: 'start' }
  | { readonly kind: 'recover' }
  | { readonly kind: 'resume'; readonly input: unknown; readonly replaced: boolean }
  | { readonly kind: 'result'; readonly run: RunOutcome }
  | { readonly kind: 'deliver'; readonly seq: number; readonly result: TaskResult; readonly consumes?: number }
  | { readonly kind: 'timer' }
  | { readonly kind: 'cancel'; readonly reason: string }
  | { readonly kind: 'fail'; readonly error: ExecutionError }
  | { readonly kind: 'suspend' }

/** How an actor stopped: its execution ended, it was parked (lease handed back), or it lost it. */
export type ActorEnd =
  | { readonly kind: 'finished'; readonly detail: ExecutionDetail }
  | { readonly kind: 'released' }
  | { readonly kind: 'lost' }
  | { readonly kind: 'broken'; readonly error: unknown }

/** Most runs and bytes of data an actor keeps in memory to answer its own end without a read. */
const HISTORY_RUNS = 1000
const HISTORY_BYTES = 8 * 1024 * 1024
/** Waits before writing a step again after the store failed; then the execution is handed back. */
const WRITE_RETRIES = [50, 250, 1000]

class StopError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'StopError'
  }
}

/**
 * One execution running on this node. It alone holds the execution's state, in private: every
 * event (a run's result, a timer, a cancel, a signal) goes through its mailbox, one decision of the
 * pure core at a time; each batch of decisions becomes one lease-fenced step write, and only once
 * that step is committed are its runs started. So the store and the actor never disagree, and
 * what a crash leaves behind is exactly the last step.
 */
export class ExecutionActor {
  readonly id: string
  #state: ExecutionState
  readonly #keeper: ScopeKeeper
  readonly #mail: Mail[] = []
  #draining = false
  #stopped = false
  #eventSeq: number
  #storedBytes: number
  #startedAt: number | null
  #create: NewExecution | undefined
  #takeover: boolean
  #inputJson: string | undefined
  #poke: number
  readonly #open = new Map<number, OpenRunInfo>()
  readonly #running = new Map<number, Running>()
  readonly #childIds: Map<number, string>
  /** Signals handed to a wait whose delivery is not decided yet: signal seq -> the waiting run's seq. */
  readonly #claimedSignals = new Map<number, number>()
  #history: TaskRunRecord[] | null
  #historyBytes = 0
  #timer: TimerHandle | undefined
  #checking = false
  #recheck = false
  readonly #firstWrite: { resolve: () => void; reject: (error: unknown) => void; promise: Promise<void> }

  constructor(
    readonly plan: FlowPlan,
    readonly identity: ExecutionIdentity,
    private readonly env: ActorEnv,
    from: {
      readonly state: ExecutionState
      readonly input: unknown
      readonly eventSeq: number
      readonly storedBytes: number
      readonly startedAt: number | null
      readonly poke: number
      readonly create?: NewExecution
      readonly takeover?: boolean
      /** Runs already recorded, for the history; null when not all of them are known here. */
      readonly history: TaskRunRecord[] | null
      readonly childIds?: ReadonlyMap<number, string>
    },
  ) {
    this.id = identity.id
    this.#state = from.state
    this.#keeper = new ScopeKeeper(freeze(from.input))
    this.#eventSeq = from.eventSeq
    this.#storedBytes = from.storedBytes
    this.#startedAt = from.startedAt
    this.#create = from.create
    this.#takeover = from.takeover === true
    this.#inputJson = undefined
    this.#poke = from.poke
    this.#history = from.history
    this.#childIds = new Map(from.childIds)
    let resolve!: () => void
    let reject!: (error: unknown) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    promise.catch(() => undefined)
    this.#firstWrite = { resolve, reject, promise }
  }

  /** The scope keeper, for a node that restores an execution from the store before it starts deciding. */
  get keeper(): ScopeKeeper {
    return this.#keeper
  }

  get state(): ExecutionState {
    return this.#state
  }

  /** Settles once the actor's first step is committed (or could not be). */
  get recorded(): Promise<void> {
    return this.#firstWrite.promise
  }

  /** What the actor knows of an open run. */
  runInfo(seq: number): OpenRunInfo | undefined {
    return this.#open.get(seq)
  }

  /** Registers a run that was open when the execution was taken over, so that its result is expected. */
  restoreOpen(seq: number, info: OpenRunInfo): void {
    this.#open.set(seq, info)
  }

  post(mail: Mail): void {
    if (this.#stopped) return
    this.#mail.push(mail)
    if (!this.#draining) void this.#drain()
  }

  /** A signal arrived or a child ended (the store's poke counter moved): look at what the execution waits for. */
  poked(poke?: number): void {
    if (poke !== undefined) {
      if (poke === this.#poke) return
      this.#poke = poke
    }
    void this.#checkWaits()
  }

  async #drain(): Promise<void> {
    this.#draining = true
    try {
      while (this.#mail.length > 0 && !this.#stopped) await this.#process(this.#mail.splice(0))
    } catch (error) {
      this.env.logger.error({ err: error, executionId: this.id }, 'execution stopped on an internal error; it resumes from its last recorded step')
      this.#stop({ kind: 'broken', error }, new StopError('ENGINE_ERROR', 'the engine stopped this run'))
    } finally {
      this.#draining = false
    }
  }

  async #process(batch: readonly Mail[]): Promise<void> {
    const at = this.env.clock.now()
    const commands: Command[] = []
    const leading: LeadingEvent[] = []
    const outcomes = new Map<number, CodeOutcome>()
    const children: NewExecution[] = []
    let queue: readonly Mail[] = batch
    while (queue.length > 0) {
      const next: Mail[] = []
      for (const mail of queue) {
        const event = this.#toEvent(mail, at, outcomes, leading)
        if (event === undefined) continue
        const decision = advance(this.plan, this.#state, event)
        this.#state = decision.state
        this.#keeper.afterDecision(decision.commands)
        for (const c of decision.commands) {
          commands.push(c)
          if (c.type === 'start_run') this.#open.set(c.seq, { startedAt: at, attempt: c.attempt, taskType: c.task.type })
          else if (c.type === 'abort_run') this.#running.get(c.seq)?.abort(new StopError(c.code, c.message))
          else if (c.type === 'start_child') {
            const prepared = await this.env.prepareChild(this.identity, c)
            if ('message' in prepared) next.push({ kind: 'deliver', seq: c.seq, result: { status: 'failure', error: prepared } })
            else {
              children.push(prepared)
              this.#childIds.set(c.seq, prepared.id)
            }
          }
        }
      }
      queue = next
    }
    if (commands.length === 0 && leading.length === 0) return
    if (this.#startedAt === null && this.#state.status !== 'pending') this.#startedAt = at
    const step = buildStep(
      {
        executionId: this.id,
        owner: this.env.nodeId,
        at,
        leaseMs: this.env.leaseMs,
        takeover: this.#takeover,
        create: this.#create,
        inputJson: this.#inputJson,
        startedAt: this.#startedAt,
        eventSeq: this.#eventSeq,
        storedBytes: this.#storedBytes,
        outcomes,
        open: this.#open,
        childIds: this.#childIds,
        children,
        parentId: this.identity.parent?.executionId ?? null,
        leading,
      },
      this.#state,
      commands,
    )
    if (!(await this.#write(step.write))) return
    this.#create = undefined
    this.#takeover = false
    this.#inputJson = undefined
    this.#eventSeq = step.eventSeq
    this.#storedBytes = step.storedBytes
    this.#remember(step.write)
    this.#firstWrite.resolve()
    describeCommands(this.env, this, commands, step.write, at)
    for (const c of commands) {
      if (c.type === 'finish_run' || c.type === 'interrupt_run') {
        this.#open.delete(c.seq)
        this.#running.delete(c.seq)
      }
    }
    if (children.length > 0) this.env.lookForWork()
    if (isTerminal(this.#state.status)) {
      this.#stop({ kind: 'finished', detail: await this.#detail(step.finishedAt ?? at) })
      return
    }
    if (isIdle(this.#state)) {
      await this.#handBack(at)
      return
    }
    for (const run of step.launches) this.#launch(run)
    this.#arm()
    if (commands.some((c) => c.type === 'park_run' && c.waiting.kind !== 'timer')) void this.#checkWaits()
  }

  /**
   * The step just written handed the lease back: every thread waits. A signal, a child's end or a
   * cancel that came while this node held the execution reached only this actor, or bumped a poke
   * counter that nobody watches any more. So the actor stops first (from then on, a cancel or a
   * signal takes the store's way), then looks once more and leaves the execution due at once, or
   * its cancellation requested, for whichever node claims it next: nothing that came is lost.
   */
  async #handBack(at: number): Promise<void> {
    const left = this.#mail.splice(0)
    this.#stop({ kind: 'released' })
    try {
      if (left.some((m) => m.kind === 'cancel')) await this.env.store.requestCancel(this.id, at)
      // Should the look fail, wake it anyway: a spare wake costs one claim, a missed one a signal.
      // (A run's result cannot matter here: no run is open when every thread waits.)
      else if (left.some((m) => m.kind === 'deliver' || m.kind === 'fail') || (await this.#arrivedForWaits().catch(() => true))) await this.env.store.poke(this.id, at)
      else return
      this.env.lookForWork()
    } catch (error) {
      this.env.logger.warn({ err: error, executionId: this.id }, 'could not wake a parked execution; it is looked at again at its next wake')
    }
  }

  /** Whether a signal a parked run waits for is kept, or a child it waits for has ended (claimed or not). */
  async #arrivedForWaits(): Promise<boolean> {
    const parked = this.#state.threads.filter((t) => t.phase === 'parked')
    const names = new Set(parked.flatMap((t) => (t.waiting?.kind === 'signal' ? [t.waiting.signal] : [])))
    if (names.size > 0 && (await this.env.store.pendingSignals(this.id, 1000)).some((s) => names.has(s.name))) return true
    const children = parked.filter((t) => t.waiting?.kind === 'child').map((t) => t.seq)
    return children.length > 0 && (await this.env.store.listChildren(this.id, children)).some((c) => isTerminal(c.status))
  }

  /** Turns mail into the core's event, updating what expressions will read; undefined when nothing is to decide. */
  #toEvent(mail: Mail, at: number, outcomes: Map<number, CodeOutcome>, leading: LeadingEvent[]): CoreEvent | undefined {
    const scope = this.#keeper.scope()
    switch (mail.kind) {
      case 'start':
        leading.push({ type: 'execution_started', data: { flow_id: this.identity.flowId, flow_version: this.identity.flowVersion, node: this.env.nodeId } })
        return { type: 'start', at, scope }
      case 'recover':
        // Runs were in flight: a crash or a lost lease cut them off. None were: a parked execution's wait is over (or may be).
        leading.push({ type: 'execution_resumed', data: { reason: this.#state.threads.some((t) => t.phase === 'run') ? 'recovered' : 'woken', node: this.env.nodeId } })
        return { type: 'recover', at, scope, maxRecoveries: this.env.maxRecoveries }
      case 'resume':
        if (mail.replaced) {
          this.#keeper.setInput(freeze(mail.input))
          this.#inputJson = JSON.stringify(mail.input)
        }
        leading.push({ type: 'execution_resumed', data: { reason: 'resume', from_task: this.#state.failedTask, input_replaced: mail.replaced } })
        return { type: 'resume', at, scope: this.#keeper.scope() }
      case 'timer':
        return { type: 'timer', at, scope }
      case 'cancel':
        if (isTerminal(this.#state.status)) return undefined
        leading.push({ type: 'cancel_requested', data: { reason: mail.reason } })
        return { type: 'cancel', at, reason: mail.reason }
      case 'fail':
        return { type: 'fail', at, error: mail.error }
      case 'suspend':
        return { type: 'suspend', at }
      case 'result': {
        const { seq, outcome, durationMs } = mail.run
        const bytes = outcome.dataJson?.length ?? 0
        if (this.#storedBytes + bytes > this.env.storageLimit && this.#keeper.open.has(seq)) {
          return {
            type: 'fail',
            at,
            error: {
              code: 'STORAGE_LIMIT_EXCEEDED',
              message: `task run ${seq} returned ${bytes} bytes, and the execution would store more than ${this.env.storageLimit} bytes in all (FLOW_MANAGER_EXECUTION_STORAGE_LIMIT); the execution was failed`,
            },
          }
        }
        if (!this.#before(seq, outcome.result, outcome.dataJson)) return undefined
        outcomes.set(seq, { dataJson: outcome.dataJson, durationMs })
        return { type: 'run_finished', at, seq, result: outcome.result, scope, random: Math.random() }
      }
      case 'deliver': {
        const dataJson = mail.result.data === undefined ? undefined : JSON.stringify(mail.result.data)
        if (mail.consumes !== undefined) this.#claimedSignals.delete(mail.consumes)
        if (!this.#before(mail.seq, mail.result, dataJson)) return undefined
        const info = this.#open.get(mail.seq)
        outcomes.set(mail.seq, { dataJson, durationMs: at - (info?.startedAt ?? at) })
        return mail.consumes === undefined
          ? { type: 'run_finished', at, seq: mail.seq, result: mail.result, scope }
          : { type: 'run_finished', at, seq: mail.seq, result: mail.result, scope, consumes: mail.consumes }
      }
    }
  }

  /** Puts a run's result where expressions read it (as stored: JSON round trip), unless the run is no longer open. */
  #before(seq: number, result: TaskResult, dataJson: string | undefined): boolean {
    const data = dataJson === undefined ? null : freeze(JSON.parse(dataJson) as unknown)
    const error = result.status === 'failure' ? result.error.message : null
    return this.#keeper.beforeFinish(seq, { status: result.status, data, error }, dataJson?.length ?? 0)
  }

  async #write(step: StepWrite): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        const pending = this.env.store.write(step)
        if (pending !== undefined) await pending
        return true
      } catch (error) {
        if (error instanceof LeaseLostError) {
          this.env.logger.warn({ executionId: this.id }, 'lease lost: another node took this execution over')
          this.#stop({ kind: 'lost' }, new StopError('LEASE_LOST', 'another node took this execution over'))
          return false
        }
        const delay = WRITE_RETRIES[attempt]
        if (step.create !== undefined || delay === undefined || this.#stopped) {
          this.env.logger.error({ err: error, executionId: this.id }, 'a step could not be recorded; the execution is handed back and resumes from its last recorded step')
          this.#firstWrite.reject(error)
          this.#stop({ kind: 'broken', error }, new StopError('STORE_UNAVAILABLE', 'the step could not be recorded'))
          this.env.store.release(this.env.nodeId, [this.id]).catch(() => undefined)
          return false
        }
        await new Promise<void>((resolve) => this.env.timers.at(this.env.clock.now() + delay, resolve))
      }
    }
  }

  #launch(run: StartRun): void {
    if (this.#stopped) return
    const source = { executionId: this.id, flowId: this.identity.flowId, flowInput: this.#keeper.input, results: this.#keeper.results }
    const handle = this.env.scheduler.launch(run, source, this.id, (outcome) => this.post({ kind: 'result', run: outcome }))
    if (this.#open.has(run.seq) && this.#keeper.open.has(run.seq)) this.#running.set(run.seq, handle)
  }

  #arm(): void {
    this.#timer?.cancel()
    const wake = nextWake(this.#state)
    this.#timer = wake === null ? undefined : this.env.timers.at(wake, () => this.post({ kind: 'timer' }))
  }

  /** Delivers what parked runs wait for and has arrived: signals (oldest first, one per wait) and ended children. */
  async #checkWaits(): Promise<void> {
    if (this.#stopped) return
    // A poke during a look may bring what that look's read missed: look once more after it.
    if (this.#checking) {
      this.#recheck = true
      return
    }
    this.#checking = true
    try {
      do {
        this.#recheck = false
        for (const mail of await this.arrived()) this.post(mail)
      } while (this.#recheck && !this.#stopped)
    } catch (error) {
      this.env.logger.warn({ err: error, executionId: this.id }, 'could not look at signals or sub-flows; looking again at the next poke')
    } finally {
      this.#checking = false
    }
  }

  /** What parked runs wait for and has arrived, as mail (not posted): a node taking the execution over decides it with its first step. */
  async arrived(): Promise<Mail[]> {
    const mails: Mail[] = []
    const parked = this.#state.threads.filter((t) => t.phase === 'parked').sort((a, b) => a.seq - b.seq)
    const taken = new Set(this.#claimedSignals.values())
    const signalWaits = parked.filter((t) => t.waiting?.kind === 'signal' && !taken.has(t.seq))
    if (signalWaits.length > 0) {
      const signals = (await this.env.store.pendingSignals(this.id, 1000)).filter((s) => !this.#claimedSignals.has(s.seq))
      for (const wait of signalWaits) {
        const name = wait.waiting?.kind === 'signal' ? wait.waiting.signal : ''
        const i = signals.findIndex((s) => s.name === name)
        const signal = i < 0 ? undefined : signals.splice(i, 1)[0]
        if (signal === undefined) continue
        this.#claimedSignals.set(signal.seq, wait.seq)
        mails.push({ kind: 'deliver', seq: wait.seq, result: { status: 'success', data: signal.payload }, consumes: signal.seq })
      }
    }
    const childWaits = parked.filter((t) => t.waiting?.kind === 'child')
    if (childWaits.length > 0) {
      const records = await this.env.store.listChildren(this.id, childWaits.map((t) => t.seq))
      for (const child of records) {
        if (!isTerminal(child.status) || child.parent === null) continue
        mails.push({ kind: 'deliver', seq: child.parent.seq, result: await this.env.childResult(child) })
      }
    }
    return mails
  }

  /** Starts deciding with several mails at once (a node taking an execution over). */
  postAll(mails: readonly Mail[]): void {
    if (this.#stopped) return
    this.#mail.push(...mails)
    if (!this.#draining) void this.#drain()
  }

  #remember(write: StepWrite): void {
    const history = this.#history
    if (history === null) return
    for (const w of write.runs) {
      applyRunWrite(history, this.id, w)
      if (w.kind === 'end') this.#historyBytes += w.dataJson?.length ?? 0
      else if (w.kind === 'start') this.#historyBytes += w.end?.dataJson?.length ?? 0
    }
    if (history.length > HISTORY_RUNS || this.#historyBytes > HISTORY_BYTES) this.#history = null
  }

  /** The execution as it ended: from memory when all of it is here, else a bounded read. */
  async #detail(finishedAt: number): Promise<ExecutionDetail> {
    if (this.#history !== null) return { execution: this.record(finishedAt), runs: this.#history.slice(), totalRuns: this.#history.length }
    const stored = await this.env.store.getExecution(this.id, { maxRuns: HISTORY_RUNS, maxDataBytes: HISTORY_BYTES }).catch(() => undefined)
    return stored ?? { execution: this.record(finishedAt), runs: [] }
  }

  record(finishedAt: number | null = null): ExecutionRecord {
    const s = this.#state
    const i = this.identity
    return {
      id: i.id,
      flowId: i.flowId,
      flowVersion: i.flowVersion,
      definitionHash: i.definitionHash,
      status: s.status,
      input: this.#keeper.input,
      currentTask: null,
      steps: s.steps,
      stepBase: s.stepBase,
      seq: s.seq,
      failedTask: s.failedTask,
      error: s.error,
      deadline: s.deadline,
      threads: s.threads,
      nextThread: s.nextThread,
      idempotencyKey: i.idempotencyKey,
      createdAt: i.createdAt,
      startedAt: this.#startedAt,
      finishedAt,
      leaseOwner: null,
      wakeAt: null,
      cancelRequested: false,
      eventSeq: this.#eventSeq,
      storedBytes: this.#storedBytes,
      poke: this.#poke,
      parent: i.parent,
      depth: i.depth,
    }
  }

  #stop(end: ActorEnd, abortWith?: StopError): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#timer?.cancel()
    this.#mail.length = 0
    for (const running of this.#running.values()) running.abort(abortWith ?? new StopError('SHUTTING_DOWN', 'the execution stopped running here'))
    this.#running.clear()
    this.env.stopped(this, end)
  }
}

/** Data the engine hands to task code is read-only: a task cannot change what later tasks or the caller see. */
function freeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  for (const key of Object.keys(value)) freeze((value as Record<string, unknown>)[key])
  return Object.freeze(value)
}

export type { TaskFailure, NormalizedResult }
