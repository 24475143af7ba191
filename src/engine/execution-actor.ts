import { advance } from '../core/advance.js'
import type { Command, EngineEvent as CoreEvent, StartRun } from '../core/commands.js'
import { isIdle, isTerminal, nextWake, type ExecutionState } from '../core/execution-state.js'
import type { FlowPlan } from '../core/plan.js'
import { ScopeKeeper } from '../core/scope-keeper.js'
import type { NormalizedResult, TaskFailure, TaskResult } from '../core/task-result.js'
import { applyRunWrite } from '../store/run-records.js'
import { isStoreUnavailable } from '../store/store-errors.js'
import { LeaseLostError, type ExecutionDetail, type ExecutionRecord, type NewExecution, type RunWrite, type StepWrite, type TaskRunRecord } from '../store/store.js'
import type { ActorEnd, ActorEnv, ExecutionIdentity, Mail } from './actor-env.js'
import { describeCommands } from './step-log.js'
import { buildStep, type CodeOutcome, type LeadingEvent, type OpenRunInfo, type Step } from './step-writer.js'
import type { RunContextSource } from './run-context.js'
import type { Running } from './scheduler.js'
import type { TimerHandle } from './timers.js'

/** What one batch of mail decided, on its way to one step write. */
interface Batch {
  readonly at: number
  readonly commands: Command[]
  readonly leading: LeadingEvent[]
  readonly outcomes: Map<number, CodeOutcome>
  readonly children: NewExecution[]
  readonly unresolved: Extract<Command, { type: 'start_child' }>[]
}

/** Most runs and bytes of data an actor keeps in memory to answer its own end without a read. */
const HISTORY_RUNS = 1000
const HISTORY_BYTES = 8 * 1024 * 1024
/** An ended execution at most this large is remembered a while for whoever asks for it next. */
const SMALL_BYTES = 64 * 1024
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
  /** The run writes of every step, replayed into task runs at the end (cheaper than keeping records up to date); null once too large. */
  #history: RunWrite[] | null
  #historyRuns = 0
  #historyBytes = 0
  #timer: TimerHandle | undefined
  #source: RunContextSource | undefined
  #checking = false
  /** Its first step is committed: until then the store may not show it as held here (a start, a resume). */
  #holds = false
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
      readonly history: RunWrite[] | null
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

  /** True once a step of this actor is committed (or it was claimed): the store then shows its lease. */
  get holdsLease(): boolean {
    return this.#holds || (this.#create === undefined && !this.#takeover)
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
    if (!this.#draining) this.#drain()
  }

  /** A signal arrived or a child ended (the store's poke counter moved): look at what the execution waits for. */
  poked(poke?: number): void {
    if (poke !== undefined) {
      if (poke === this.#poke) return
      this.#poke = poke
    }
    void this.#checkWaits()
  }

  /**
   * Decides and records what is in the mailbox, batch after batch. A batch that needs no I/O of
   * its own (a store that commits in memory, no sub-flow to resolve) completes synchronously, so
   * a task that answers synchronously costs no extra turn of the event loop.
   */
  #drain(): void {
    this.#draining = true
    while (this.#mail.length > 0 && !this.#stopped) {
      let pending: Promise<void> | undefined
      try {
        pending = this.#process(this.#mail.splice(0))
      } catch (error) {
        this.#broken(error)
        break
      }
      if (pending !== undefined) {
        pending.then(
          () => this.#drain(),
          (error: unknown) => {
            this.#broken(error)
            this.#draining = false
          },
        )
        return
      }
    }
    this.#draining = false
  }

  #broken(error: unknown): void {
    this.env.logger.error({ err: error, executionId: this.id }, 'execution stopped on an internal error; it resumes from its last recorded step')
    // Whoever waits for the first step (a start) is answered, not left waiting for ever.
    this.#firstWrite.reject(error)
    this.#stop({ kind: 'broken', error }, new StopError('ENGINE_ERROR', 'the engine stopped this run'))
    // The database failed a read: given back, it goes on soon; any other fault waits for the lease to expire.
    if (isStoreUnavailable(error)) this.env.handBack(this.id)
  }

  #process(batch: readonly Mail[]): Promise<void> | undefined {
    // A step that ended or parked the execution stopped the actor before this mail came; here it is truly lost.
    if (batch.some((m) => m.kind === 'lost')) {
      this.env.logger.warn({ executionId: this.id }, 'lease lost: another node took this execution over')
      this.#stop({ kind: 'lost' }, new StopError('LEASE_LOST', 'another node took this execution over'))
      return undefined
    }
    const work: Batch = { at: this.env.clock.now(), commands: [], leading: [], outcomes: new Map(), children: [], unresolved: [] }
    this.#decide(batch, work)
    if (work.unresolved.length === 0) return this.#record(work)
    return this.#resolveChildren(work).then(() => this.#record(work))
  }

  /** Runs each mail through the core; sub-flows to start are collected to be resolved. */
  #decide(mails: readonly Mail[], work: Batch): void {
    const { at } = work
    for (const mail of mails) {
      const event = this.#toEvent(mail, at, work.outcomes, work.leading)
      if (event === undefined) continue
      const decision = advance(this.plan, this.#state, event)
      this.#state = decision.state
      this.#keeper.afterDecision(decision.commands)
      for (const c of decision.commands) {
        work.commands.push(c)
        if (c.type === 'start_run') this.#open.set(c.seq, { startedAt: at, attempt: c.attempt, taskType: c.task.type })
        else if (c.type === 'abort_run') this.#running.get(c.seq)?.abort(new StopError(c.code, c.message))
        else if (c.type === 'start_child') work.unresolved.push(c)
      }
    }
  }

  /** Finds the flows sub-flows run; one that cannot start fails its task, decided in the same step. */
  async #resolveChildren(work: Batch): Promise<void> {
    while (work.unresolved.length > 0) {
      const failed: Mail[] = []
      for (const c of work.unresolved.splice(0)) {
        const prepared = await this.env.prepareChild(this.identity, c)
        if ('message' in prepared) failed.push({ kind: 'deliver', seq: c.seq, result: { status: 'failure', error: prepared } })
        else {
          work.children.push(prepared)
          this.#childIds.set(c.seq, prepared.id)
        }
      }
      this.#decide(failed, work)
    }
  }

  /** Writes the batch's step; once it is committed, starts its runs. */
  #record(work: Batch): Promise<void> | undefined {
    const { at, commands, leading } = work
    if (commands.length === 0 && leading.length === 0) return undefined
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
        outcomes: work.outcomes,
        open: this.#open,
        childIds: this.#childIds,
        children: work.children,
        parentId: this.identity.parent?.executionId ?? null,
        leading,
        poke: this.#poke,
      },
      this.#state,
      commands,
    )
    let pending: Promise<void> | undefined
    try {
      pending = this.env.store.write(step.write)
    } catch (error) {
      pending = Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
    if (pending === undefined) return this.#committed(work, step)
    return pending.then(
      () => this.#committed(work, step),
      async (error: unknown) => {
        if (await this.#rewrite(step.write, error)) return this.#committed(work, step)
      },
    )
  }

  #committed(work: Batch, step: Step): Promise<void> | undefined {
    const { at, commands } = work
    this.#create = undefined
    this.#takeover = false
    this.#holds = true
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
    const { write } = step
    // Children queued, a parent woken, children to cancel: work may be due now on this node.
    if (work.children.length > 0 || write.wakeParent !== undefined || write.cancelChildren !== undefined) this.env.lookForWork()
    if (write.cancelChildren !== undefined) this.env.childrenCancelled(write.cancelChildren)
    if (isTerminal(this.#state.status)) {
      const finishedAt = step.finishedAt ?? at
      if (this.#history !== null) {
        this.#stop({ kind: 'finished', detail: this.#fromHistory(finishedAt, this.#history), small: this.#historyBytes <= SMALL_BYTES && this.#historyRuns <= 100 })
        return undefined
      }
      return this.#detail(finishedAt).then((detail) => this.#stop({ kind: 'finished', detail, small: false }))
    }
    if (isIdle(this.#state)) {
      const left = this.#mail.splice(0)
      const wakeAt = step.write.pokeSeen === -1 ? at : nextWake(this.#state)
      this.#stop({ kind: 'released', wakeAt })
      if (left.length === 0 && (wakeAt === at || !this.#waitsForArrivals())) return undefined
      return this.#handBack(left, at, wakeAt === at)
    }
    for (const run of step.launches) this.#launch(run)
    this.#arm()
    for (const c of commands) {
      if (c.type === 'park_run' && c.waiting.kind !== 'timer') {
        void this.#checkWaits()
        break
      }
    }
    return undefined
  }

  /**
   * The step just written handed the lease back: every thread waits. A signal, a child's end or a
   * cancel that came while this node held the execution reached only this actor, or bumped a poke
   * counter that nobody watches any more. So the actor stops first (from then on, a cancel or a
   * signal takes the store's way), then looks once more and leaves the execution due at once, or
   * its cancellation requested, for whichever node claims it next: nothing that came is lost.
   */
  async #handBack(left: readonly Mail[], at: number, dueNow: boolean): Promise<void> {
    try {
      if (left.some((m) => m.kind === 'cancel')) await this.env.store.requestCancel(this.id, at)
      // Due at once already (the step began a wait): whoever claims it looks at what arrived.
      else if (dueNow) return
      // Should the look fail, wake it anyway: a spare wake costs one claim, a missed one a signal.
      // (A run's result cannot matter here: no run is open when every thread waits.)
      else if (left.some((m) => m.kind === 'deliver' || m.kind === 'fail') || (await this.#arrivedForWaits().catch(() => true))) await this.env.store.poke(this.id, at)
      else return
      this.env.lookForWork()
    } catch (error) {
      this.env.logger.warn({ err: error, executionId: this.id }, 'could not wake a parked execution; it is looked at again at its next wake')
    }
  }

  /** Whether a parked run waits for a signal or a child: something that may have come while this node held it. */
  #waitsForArrivals(): boolean {
    for (const t of this.#state.threads) if (t.phase === 'parked' && t.waiting !== null && t.waiting.kind !== 'timer') return true
    return false
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
        // No run in flight: a parked execution's wait is over (or may be). Runs in flight were cut
        // off: by a crash or a lost lease, or handed back by a node that could not record a step.
        leading.push({ type: 'execution_resumed', data: { reason: !this.#state.threads.some((t) => t.phase === 'run') ? 'woken' : mail.handedBack ? 'handed_back' : 'recovered', node: this.env.nodeId } })
        return { type: 'recover', at, scope, maxRecoveries: this.env.maxRecoveries, handedBack: mail.handedBack }
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
      case 'lost':
        return undefined
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
    const data: unknown = dataJson === undefined ? null : freeze(JSON.parse(dataJson) as unknown)
    const error = result.status === 'failure' ? result.error.message : null
    return this.#keeper.beforeFinish(seq, { status: result.status, data, error }, dataJson?.length ?? 0)
  }

  /** A step write failed: another node took the execution (stop here), or the store failed (retry, then hand it back). */
  async #rewrite(step: StepWrite, error: unknown): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
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
        this.env.handBack(this.id)
        return false
      }
      await new Promise<void>((resolve) => this.env.timers.at(this.env.clock.now() + delay, resolve))
      try {
        const pending = this.env.store.write(step)
        if (pending !== undefined) await pending
        return true
      } catch (next: unknown) {
        error = next
      }
    }
  }

  #launch(run: StartRun): void {
    if (this.#stopped) return
    // One context source while the input stays the same (a resume with input replaces it).
    let source = this.#source
    if (source === undefined || source.flowInput !== this.#keeper.input) {
      source = { executionId: this.id, flowId: this.identity.flowId, flowInput: this.#keeper.input, results: this.#keeper.results }
      this.#source = source
    }
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
    if (!this.#draining) this.#drain()
  }

  #remember(write: StepWrite): void {
    const history = this.#history
    if (history === null) return
    for (const w of write.runs) {
      history.push(w)
      if (w.kind === 'end') this.#historyBytes += w.dataJson?.length ?? 0
      else if (w.kind === 'start') {
        this.#historyRuns++
        this.#historyBytes += w.end?.dataJson?.length ?? 0
      }
    }
    if (this.#historyRuns > HISTORY_RUNS || this.#historyBytes > HISTORY_BYTES) this.#history = null
  }

  #fromHistory(finishedAt: number, history: readonly RunWrite[]): ExecutionDetail {
    const runs: TaskRunRecord[] = []
    for (const w of history) applyRunWrite(runs, this.id, w)
    return { execution: this.record(finishedAt), runs, totalRuns: runs.length }
  }

  /** The execution as it ended, read within bounds (its history is not all here). */
  async #detail(finishedAt: number): Promise<ExecutionDetail> {
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
