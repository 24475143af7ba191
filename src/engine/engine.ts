import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { pino } from 'pino'
import { advance, INITIAL_STATE, isTerminal, type Decision, type ExecutionState } from '../core/advance.js'
import { FlowManagerError } from '../core/errors.js'
import type { Flow } from '../core/flow-schema.js'
import { parseFlow, type ParseFlowResult } from '../core/parse-flow.js'
import { compileFlow, type FlowPlan } from '../core/plan.js'
import type { TaskResultView, TaskContext, Logger, TaskRegistry } from '../tasks/define-task.js'
import type { ExecutionDetail, ExecutionRecord, FlowRecord, StepWrite, Store, TaskRunRecord } from '../store/store.js'
import type { EngineEvent, EngineListener } from './engine-events.js'
import { uuidv7 } from './ids.js'
import { runTask } from './run-task.js'

export interface Clock {
  /** Wall-clock time in epoch milliseconds, for timestamps. */
  now(): number
  /** A monotonic reading in milliseconds, for durations. */
  monotonic(): number
}

export const systemClock: Clock = { now: () => Date.now(), monotonic: () => performance.now() }

export interface EngineOptions {
  readonly store: Store
  readonly tasks: TaskRegistry
  readonly clock?: Clock
  readonly newId?: () => string
  readonly logger?: Logger
  /** Largest serialized result data a task may return, in bytes. Default 1 MiB. */
  readonly maxResultBytes?: number
  /**
   * How long the latest version of a registered flow is reused before asking the store again, in
   * milliseconds. Default 1000; 0 asks every time. Registering through this engine refreshes it at
   * once; a version registered on another node is picked up within this time.
   */
  readonly flowCacheMs?: number
}

/** Which flow to run: an inline definition (validated first) or a registered flow id. */
export type FlowSource = { readonly flow: unknown } | { readonly flowId: string; readonly version?: number }

export interface StartOptions {
  /** The execution input; any JSON value. Default `{}`. */
  readonly input?: unknown
  /** A repeated start with the same key returns the first execution instead of starting another. */
  readonly idempotencyKey?: string
}

export interface Started {
  readonly executionId: string
  /** False when an idempotency key matched an execution started earlier. */
  readonly created: boolean
  /** Settles with the finished execution. */
  readonly done: Promise<ExecutionDetail>
}

export interface Engine {
  readonly store: Store
  readonly tasks: TaskRegistry
  /** Validates a flow document against the schema and this engine's task types. */
  validate(json: unknown): ParseFlowResult
  /** Registers a flow definition as the next version of its id. Throws FLOW_INVALID with the issues. */
  registerFlow(json: unknown): Promise<FlowRecord>
  /** Starts an execution; resolves once it is recorded, while it goes on running. */
  start(source: FlowSource, options?: StartOptions): Promise<Started>
  /** Starts an execution and waits for its end. */
  run(source: FlowSource, options?: StartOptions): Promise<ExecutionDetail>
  /** Cancels a pending or running execution; the running task's signal is aborted. */
  cancel(executionId: string, reason?: string): Promise<ExecutionDetail>
  /** Runs a failed execution again from its failed task, optionally with a new input. */
  resume(executionId: string, options?: { input?: unknown }): Promise<Started>
  get(executionId: string): Promise<ExecutionDetail | undefined>
  /** Listens to what the engine does; returns the function that stops listening. */
  subscribe(listener: EngineListener): () => void
  /**
   * Stops taking new work, lets running task runs finish for up to `graceMs` (default 10 s), then
   * aborts the rest. Executions still unfinished stay recorded as running and resume on the next
   * start (or on another node).
   */
  close(options?: { graceMs?: number }): Promise<void>
  /** Executions running in this process now. */
  readonly running: number
}

interface Live {
  readonly id: string
  readonly plan: FlowPlan
  readonly execution: ExecutionRecord
  input: unknown
  state: ExecutionState
  startedAt: number | null
  finishedAt: number | null
  done: Promise<ExecutionDetail> | undefined
  nextSeq: number
  readonly runs: TaskRunRecord[]
  readonly results: Record<string, TaskResultView>
  readonly controller: AbortController
  cancelReason: string | undefined
  /** Aborted by shutdown rather than cancel: the run is left for recovery, not recorded as cancelled. */
  shutdown: boolean
}

const PLAN_CACHE_SIZE = 1000

export function createEngine(options: EngineOptions): Engine {
  const { store, tasks } = options
  const clock = options.clock ?? systemClock
  const newId = options.newId ?? (() => uuidv7(clock.now()))
  const logger: Logger = options.logger ?? pino({ level: 'silent' })
  const maxResultBytes = options.maxResultBytes ?? 1024 * 1024
  const listeners = new Set<EngineListener>()
  const live = new Map<string, Live>()
  const plans = new Map<string, FlowPlan>()
  const flowCacheMs = options.flowCacheMs ?? 1000
  const latest = new Map<string, { readonly record: FlowRecord; readonly until: number }>()
  let closing = false
  const refuseWhenClosing = (): void => {
    if (closing) throw new FlowManagerError('SHUTTING_DOWN', 'the engine is shutting down and takes no new executions')
  }

  const emit = (event: EngineEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event)
      } catch (error) {
        logger.warn({ err: error }, 'an engine listener threw')
      }
    }
  }

  const write = async (step: StepWrite): Promise<void> => {
    const pending = store.write(step)
    if (pending !== undefined) await pending
  }

  const validate = (json: unknown): ParseFlowResult => parseFlow(json, { taskTypes: tasks })

  const accept = (json: unknown): Flow => {
    const parsed = validate(json)
    if (!parsed.ok) {
      const first = parsed.errors[0]
      const more = parsed.errors.length > 1 ? ` (and ${parsed.errors.length - 1} more)` : ''
      throw new FlowManagerError('FLOW_INVALID', `the flow is invalid: ${first?.path ?? ''} ${first?.message ?? ''}${more}`.trim(), { issues: parsed.errors })
    }
    return parsed.flow
  }

  const planFor = async (flow: Flow, knownHash?: string): Promise<{ plan: FlowPlan; hash: string }> => {
    const hash = knownHash ?? createHash('sha256').update(JSON.stringify(flow)).digest('base64url')
    let plan = plans.get(hash)
    if (plan === undefined) {
      if (knownHash === undefined) await store.putDefinition(hash, flow)
      plan = compileFlow(flow)
      if (plans.size >= PLAN_CACHE_SIZE) plans.delete(plans.keys().next().value as string)
      plans.set(hash, plan)
    }
    return { plan, hash }
  }

  const resolveSource = async (source: FlowSource): Promise<{ plan: FlowPlan; hash: string; version: number | null }> => {
    if ('flow' in source) return { ...(await planFor(accept(source.flow))), version: null }
    const record = source.version === undefined ? await latestFlow(source.flowId) : await store.getFlow(source.flowId, source.version)
    if (record === undefined) {
      const which = source.version === undefined ? '' : ` version ${source.version}`
      throw new FlowManagerError('FLOW_NOT_FOUND', `no flow "${source.flowId}"${which} is registered`)
    }
    return { ...(await planFor(record.flow, record.definitionHash)), version: record.version }
  }

  const latestFlow = async (id: string): Promise<FlowRecord | undefined> => {
    const cached = latest.get(id)
    const at = clock.monotonic()
    if (cached !== undefined && cached.until > at) return cached.record
    const record = await store.getFlow(id)
    if (record !== undefined && flowCacheMs > 0) {
      if (latest.size >= PLAN_CACHE_SIZE) latest.delete(latest.keys().next().value as string)
      latest.set(id, { record, until: at + flowCacheMs })
    }
    return record
  }

  const stateWrite = (l: Live, at: number): StepWrite['state'] => {
    const s = l.state
    if (isTerminal(s.status)) l.finishedAt = at
    return {
      status: s.status,
      currentTask: s.currentTask,
      steps: s.steps,
      stepBase: s.stepBase,
      failedTask: s.failedTask,
      error: s.error,
      startedAt: l.startedAt,
      finishedAt: l.finishedAt,
      updatedAt: at,
    }
  }

  const detailOf = (l: Live): ExecutionDetail => ({
    execution: {
      ...l.execution,
      input: l.input,
      status: l.state.status,
      currentTask: l.state.currentTask,
      steps: l.state.steps,
      stepBase: l.state.stepBase,
      failedTask: l.state.failedTask,
      error: l.state.error,
      startedAt: l.startedAt,
      finishedAt: l.finishedAt,
    },
    runs: l.runs.slice(),
  })

  /** Records the start of the task run a decision asks for, in memory and in the step write. */
  const beginRun = (l: Live, decision: Decision, at: number): StepWrite['startRun'] => {
    const command = decision.command
    if (command.type !== 'run_task') return undefined
    const seq = l.nextSeq++
    const run: TaskRunRecord = {
      executionId: l.id,
      seq,
      taskName: command.task.name,
      taskType: command.task.type,
      attempt: 1,
      status: 'running',
      data: null,
      error: null,
      startedAt: at,
      finishedAt: null,
      durationMs: null,
      nextTask: null,
    }
    l.runs.push(run)
    return { seq, taskName: run.taskName, taskType: run.taskType, attempt: run.attempt, startedAt: at }
  }

  const drive = async (l: Live, first: Decision): Promise<ExecutionDetail> => {
    let decision = first
    const signal = l.controller.signal
    try {
      while (decision.command.type === 'run_task') {
        const { task, step } = decision.command
        const run = l.runs[l.runs.length - 1] as TaskRunRecord
        if (listeners.size > 0) {
          emit({ type: 'task_started', executionId: l.id, task: task.name, taskType: task.type, seq: run.seq, attempt: run.attempt, at: run.startedAt })
        }
        const context = new RunContext(l, task.name, step, run.attempt, signal, logger)
        const began = clock.monotonic()
        const pendingOutcome = runTask(tasks.get(task.type), task, task.input ?? l.input, context, maxResultBytes)
        const outcome = pendingOutcome instanceof Promise ? await pendingOutcome : pendingOutcome
        const durationMs = clock.monotonic() - began
        // Shutdown leaves the task run as recorded (running): recovery re-runs it, at least once.
        if (l.shutdown) return detailOf(l)
        const at = clock.now()
        const result = outcome.result
        decision = signal.aborted
          ? advance(l.plan, l.state, { type: 'cancel', reason: l.cancelReason ?? 'the execution was cancelled' })
          : advance(l.plan, l.state, { type: 'task_finished', result })
        l.state = decision.state
        const nextTask = decision.routedTo ?? null
        const error = result.status === 'failure' ? result.error : null
        const data = outcome.dataJson === undefined ? null : result.data
        const finished: TaskRunRecord = {
          executionId: run.executionId,
          seq: run.seq,
          taskName: run.taskName,
          taskType: run.taskType,
          attempt: run.attempt,
          status: result.status,
          data,
          error,
          startedAt: run.startedAt,
          finishedAt: at,
          durationMs,
          nextTask,
        }
        l.runs[l.runs.length - 1] = finished
        l.results[task.name] = { status: result.status, data, error: error === null ? null : error.message }
        const pendingWrite = store.write({
          executionId: l.id,
          state: stateWrite(l, at),
          finishRun: { seq: run.seq, status: result.status, dataJson: outcome.dataJson, error, finishedAt: at, durationMs, nextTask },
          startRun: beginRun(l, decision, at),
        })
        if (pendingWrite !== undefined) await pendingWrite
        if (listeners.size > 0) {
          emit({ type: 'task_finished', executionId: l.id, task: task.name, seq: run.seq, status: result.status, error, durationMs, nextTask, at })
        }
      }
      if (listeners.size > 0) {
        emit({ type: 'execution_finished', executionId: l.id, status: l.state.status, error: l.state.error, at: l.finishedAt ?? clock.now() })
      }
      return detailOf(l)
    } finally {
      live.delete(l.id)
    }
  }

  const launch = async (l: Live, decision: Decision, create: StepWrite['create']): Promise<Started> => {
    const at = clock.now()
    l.state = decision.state
    l.startedAt ??= at
    const startRun = beginRun(l, decision, at)
    live.set(l.id, l)
    try {
      await write({ executionId: l.id, ...(create === undefined ? {} : { create }), state: stateWrite(l, at), ...(startRun === undefined ? {} : { startRun }) })
    } catch (error) {
      live.delete(l.id)
      throw error
    }
    if (listeners.size > 0) emit({ type: 'execution_started', executionId: l.id, flowId: l.execution.flowId, at })
    const done = drive(l, decision)
    l.done = done
    // A store failure mid-run rejects `done`; the execution stays recorded as running and resumes later.
    done.catch((error: unknown) => logger.error({ err: error, executionId: l.id }, 'execution stopped: its progress could not be recorded'))
    return { executionId: l.id, created: true, done }
  }

  const newLive = (id: string, plan: FlowPlan, execution: ExecutionRecord, input: unknown): Live => ({
    id,
    plan,
    execution,
    input,
    state: INITIAL_STATE,
    startedAt: null,
    finishedAt: null,
    done: undefined,
    nextSeq: 1,
    runs: [],
    results: Object.create(null) as Record<string, TaskResultView>,
    controller: new AbortController(),
    cancelReason: undefined,
    shutdown: false,
  })

  const engine: Engine = {
    store,
    tasks,
    validate,
    async registerFlow(json) {
      const flow = accept(json)
      const hash = createHash('sha256').update(JSON.stringify(flow)).digest('base64url')
      const record = await store.registerFlow(hash, flow, clock.now())
      if (flowCacheMs > 0) latest.set(record.id, { record, until: clock.monotonic() + flowCacheMs })
      return record
    },
    async start(source, startOptions = {}) {
      refuseWhenClosing()
      const key = startOptions.idempotencyKey
      if (key !== undefined) {
        const existing = await store.findExecutionByIdempotencyKey(key)
        if (existing !== undefined) return { executionId: existing.id, created: false, done: awaitEnd(existing.id) }
      }
      const { plan, hash, version } = await resolveSource(source)
      const input = startOptions.input ?? {}
      let inputJson: string
      try {
        inputJson = JSON.stringify(input)
      } catch (error) {
        throw new FlowManagerError('INPUT_INVALID', `the execution input is not JSON: ${(error as Error).message}`)
      }
      const createdAt = clock.now()
      const id = newId()
      const execution: ExecutionRecord = {
        id,
        flowId: plan.flow.id,
        flowVersion: version,
        definitionHash: hash,
        status: 'pending',
        input,
        currentTask: null,
        steps: 0,
        stepBase: 0,
        failedTask: null,
        error: null,
        idempotencyKey: key ?? null,
        createdAt,
        startedAt: null,
        finishedAt: null,
      }
      const l = newLive(id, plan, execution, input)
      const create = { id, flowId: plan.flow.id, flowVersion: version, definitionHash: hash, inputJson, idempotencyKey: key ?? null, createdAt }
      return launch(l, advance(plan, INITIAL_STATE, { type: 'start' }), create)
    },
    async run(source, startOptions) {
      return (await engine.start(source, startOptions)).done
    },
    async cancel(executionId, reason) {
      const l = live.get(executionId)
      if (l !== undefined) {
        l.cancelReason = reason ?? 'the execution was cancelled'
        l.controller.abort(new FlowManagerError('EXECUTION_NOT_CANCELLABLE', l.cancelReason))
        return awaitEnd(executionId)
      }
      const detail = await store.getExecution(executionId)
      if (detail === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${executionId}"`)
      if (isTerminal(detail.execution.status)) {
        throw new FlowManagerError('EXECUTION_NOT_CANCELLABLE', `execution "${executionId}" is already ${detail.execution.status}`)
      }
      // Not running here (left over from a stopped process): record the cancellation directly.
      const at = clock.now()
      const state = advance(compileFlowPlaceholder, toState(detail.execution), { type: 'cancel', ...(reason === undefined ? {} : { reason }) }).state
      await write({ executionId, state: { ...state, startedAt: detail.execution.startedAt, finishedAt: at, updatedAt: at } })
      return (await store.getExecution(executionId)) as ExecutionDetail
    },
    async resume(executionId, resumeOptions = {}) {
      refuseWhenClosing()
      if (live.has(executionId)) throw new FlowManagerError('EXECUTION_NOT_RESUMABLE', `execution "${executionId}" is running`)
      const detail = await store.getExecution(executionId)
      if (detail === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${executionId}"`)
      const record = detail.execution
      if (record.status !== 'failed' || record.failedTask === null) {
        const why = record.status === 'failed' ? 'it did not fail in a task' : `it is ${record.status}, not failed`
        throw new FlowManagerError('EXECUTION_NOT_RESUMABLE', `execution "${executionId}" cannot be resumed: ${why}`)
      }
      const flow = await store.getDefinition(record.definitionHash)
      if (flow === undefined) throw new FlowManagerError('FLOW_NOT_FOUND', `the definition of execution "${executionId}" is missing`)
      const { plan } = await planFor(flow, record.definitionHash)
      const input = resumeOptions.input ?? record.input
      const l = newLive(executionId, plan, record, input)
      l.startedAt = record.startedAt
      l.nextSeq = (detail.runs[detail.runs.length - 1]?.seq ?? 0) + 1
      for (const run of detail.runs) {
        l.runs.push(run)
        if (run.status === 'success' || run.status === 'failure') {
          l.results[run.taskName] = { status: run.status, data: run.data, error: run.error?.message ?? null }
        }
      }
      return launch(l, advance(plan, toState(record), { type: 'resume' }), undefined)
    },
    get: (executionId) => store.getExecution(executionId),
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async close(closeOptions = {}) {
      closing = true
      const pending = [...live.values()].map((l) => l.done?.catch(() => undefined))
      const grace = closeOptions.graceMs ?? 10_000
      let timer: NodeJS.Timeout | undefined
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, grace)
        timer.unref()
      })
      await Promise.race([Promise.all(pending), expired])
      clearTimeout(timer)
      for (const l of live.values()) {
        l.shutdown = true
        l.controller.abort(new FlowManagerError('SHUTTING_DOWN', 'the process is shutting down'))
      }
      await Promise.all([...live.values()].map((l) => l.done?.catch(() => undefined)))
    },
    get running() {
      return live.size
    },
  }

  /** Waits for an execution to end when it runs here; otherwise answers what is recorded. */
  const awaitEnd = async (executionId: string): Promise<ExecutionDetail> => {
    const running = live.get(executionId)?.done
    if (running !== undefined) return running
    const detail = await store.getExecution(executionId)
    if (detail === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${executionId}"`)
    return detail
  }

  return engine
}

function toState(record: ExecutionRecord): ExecutionState {
  return {
    status: record.status,
    currentTask: record.currentTask,
    steps: record.steps,
    stepBase: record.stepBase,
    failedTask: record.failedTask,
    error: record.error,
  }
}

/** Cancelling needs no routing, so an empty plan serves for executions not loaded here. */
const compileFlowPlaceholder: FlowPlan = { flow: {} as Flow, tasks: new Map(), startTask: '', maxSteps: 0 }

/** The context handed to a task run; the logger is made only when a task asks for it. */
class RunContext implements TaskContext {
  readonly executionId: string
  readonly flowId: string
  readonly idempotencyKey: string
  readonly flowInput: unknown
  readonly results: Readonly<Record<string, TaskResultView | undefined>>
  #logger: Logger | undefined
  readonly #base: Logger

  constructor(
    l: Live,
    readonly taskName: string,
    step: number,
    readonly attempt: number,
    readonly signal: AbortSignal,
    base: Logger,
  ) {
    this.executionId = l.id
    this.flowId = l.plan.flow.id
    this.idempotencyKey = `${l.id}:${taskName}:${step}`
    this.flowInput = l.input
    this.results = l.results
    this.#base = base
  }

  get logger(): Logger {
    this.#logger ??= this.#base.child({ executionId: this.executionId, task: this.taskName, attempt: this.attempt })
    return this.#logger
  }
}
