import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { pino } from 'pino'
import { advance, INITIAL_STATE, isTerminal, rerun, type Decision, type ExecutionState } from '../core/advance.js'
import { FlowManagerError } from '../core/errors.js'
import type { Flow } from '../core/flow-schema.js'
import { parseFlow, type ParseFlowResult } from '../core/parse-flow.js'
import { compileFlow, type FlowPlan } from '../core/plan.js'
import type { Logger, TaskRegistry } from '../tasks/define-task.js'
import { LeaseLostError, type EventWrite, type ExecutionDetail, type ExecutionRecord, type FlowRecord, type RegisteredFlow, type Store } from '../store/store.js'
import type { EngineListener } from './engine-events.js'
import { uuidv7 } from './ids.js'
import { beginRun, event, newLive, restoreRuns, stepWrite } from './live-execution.js'
import { newNodeId } from './node-id.js'
import { createRunner } from './runner.js'
import { createWorker } from './worker.js'

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
  /** This node's identity as a lease owner. Default `host/pid/random`. */
  readonly nodeId?: string
  /** Largest serialized result data a task may return, in bytes. Default 1 MiB. */
  readonly maxResultBytes?: number
  /**
   * How long the latest version of a registered flow is reused before asking the store again, in
   * milliseconds. Default 1000; 0 asks every time. Registering through this engine refreshes it at
   * once; a version registered on another node is picked up within this time.
   */
  readonly flowCacheMs?: number
  /** Executions this process runs at once; more wait in the queue (durably). Default 256. */
  readonly maxConcurrent?: number
  /** How long a lease lasts without renewal, in ms. Default 30000; heartbeats renew it every third of that. */
  readonly leaseMs?: number
  /** How often an idle worker looks for work when nothing wakes it, in ms. Default 1000. */
  readonly pollMs?: number
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
  /** Settles with the finished execution, wherever it runs. */
  readonly done: Promise<ExecutionDetail>
}

export interface Engine {
  readonly store: Store
  readonly tasks: TaskRegistry
  readonly nodeId: string
  /** Validates a flow document against the schema and this engine's task types. */
  validate(json: unknown): ParseFlowResult
  /**
   * Registers a flow definition as the next version of its id, or answers the latest version
   * (`created: false`) when the definition is unchanged. Throws FLOW_INVALID with the issues.
   */
  registerFlow(json: unknown): Promise<RegisteredFlow>
  /** Starts an execution; resolves once it is recorded (running here, or queued), while it goes on. */
  start(source: FlowSource, options?: StartOptions): Promise<Started>
  /** Starts an execution and waits for its end. */
  run(source: FlowSource, options?: StartOptions): Promise<ExecutionDetail>
  /**
   * Cancels a pending or running execution. Here, the running task's signal is aborted and the
   * answer is the cancelled execution; on another node, cancellation is requested and happens at
   * that node's next heartbeat.
   */
  cancel(executionId: string, reason?: string): Promise<ExecutionDetail>
  /** Runs a failed execution again from its failed task, optionally with a new input. */
  resume(executionId: string, options?: { input?: unknown }): Promise<Started>
  get(executionId: string): Promise<ExecutionDetail | undefined>
  /** Waits for an execution to end, wherever it runs. */
  waitForEnd(executionId: string, signal?: AbortSignal): Promise<ExecutionDetail>
  /** Listens to what the engine does; returns the function that stops listening. */
  subscribe(listener: EngineListener): () => void
  /**
   * Starts taking work from the store: executions left by a crashed process, expired leases and
   * queued executions. `serve` and `worker` call it; a library user may.
   */
  startWorker(): void
  /**
   * Stops taking new work, lets running task runs finish for up to `graceMs` (default 10 s), then
   * stops the rest and hands their leases back: they resume on the next start or another node.
   */
  close(options?: { graceMs?: number }): Promise<void>
  /** Executions running in this process now. */
  readonly running: number
}

const PLAN_CACHE_SIZE = 1000

/** The part of an execution's state that is stored; the attempt is recovered from its task runs. */
const storedState = ({ attempt: _attempt, ...stored }: ExecutionState): Omit<ExecutionState, 'attempt'> => stored

export function createEngine(options: EngineOptions): Engine {
  const { store, tasks } = options
  const clock = options.clock ?? systemClock
  const newId = options.newId ?? (() => uuidv7(clock.now()))
  const logger: Logger = options.logger ?? pino({ level: 'silent' })
  const nodeId = options.nodeId ?? newNodeId()
  const leaseMs = options.leaseMs ?? 30_000
  const maxConcurrent = options.maxConcurrent ?? 256
  const flowCacheMs = options.flowCacheMs ?? 1000
  const plans = new Map<string, FlowPlan>()
  const latest = new Map<string, { readonly record: FlowRecord; readonly until: number }>()
  let closing = false

  const runner = createRunner({ store, tasks, clock, logger, nodeId, leaseMs, maxResultBytes: options.maxResultBytes ?? 1024 * 1024 })
  const { live } = runner
  const worker = createWorker({
    store,
    clock,
    logger,
    nodeId,
    leaseMs,
    maxConcurrent,
    pollMs: options.pollMs ?? 1000,
    runner,
    adopt: (record) => adopt(record),
  })

  const refuseWhenClosing = (): void => {
    if (closing) throw new FlowManagerError('SHUTTING_DOWN', 'the engine is shutting down and takes no new executions')
  }

  const validate = (json: unknown): ParseFlowResult => parseFlow(json, { taskTypes: tasks })

  const accept = (json: unknown): Flow => {
    const parsed = validate(json)
    if (!parsed.ok) {
      const first = parsed.errors[0]
      const more = parsed.errors.length > 1 ? ` (and ${parsed.errors.length - 1} more)` : ''
      // The path is left to `issues`: callers re-root it (the HTTP API under /flow), the message stays true.
      throw new FlowManagerError('FLOW_INVALID', `the flow is invalid: ${first?.message ?? ''}${more}`, { issues: parsed.errors })
    }
    return parsed.flow
  }

  const hashOf = (flow: Flow): string => createHash('sha256').update(JSON.stringify(flow)).digest('base64url')

  const planFor = async (flow: Flow, knownHash?: string): Promise<{ plan: FlowPlan; hash: string }> => {
    const hash = knownHash ?? hashOf(flow)
    let plan = plans.get(hash)
    if (plan === undefined) {
      if (knownHash === undefined) await store.putDefinition(hash, flow)
      plan = compileFlow(flow)
      if (plans.size >= PLAN_CACHE_SIZE) plans.delete(plans.keys().next().value as string)
      plans.set(hash, plan)
    }
    return { plan, hash }
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

  const resolveSource = async (source: FlowSource): Promise<{ plan: FlowPlan; hash: string; version: number | null }> => {
    if ('flow' in source) return { ...(await planFor(accept(source.flow))), version: null }
    const record = source.version === undefined ? await latestFlow(source.flowId) : await store.getFlow(source.flowId, source.version)
    if (record === undefined) {
      const which = source.version === undefined ? '' : ` version ${source.version}`
      throw new FlowManagerError('FLOW_NOT_FOUND', `no flow "${source.flowId}"${which} is registered`)
    }
    return { ...(await planFor(record.flow, record.definitionHash)), version: record.version }
  }

  const loadPlan = async (record: ExecutionRecord): Promise<FlowPlan> => {
    const cached = plans.get(record.definitionHash)
    if (cached !== undefined) return cached
    const flow = await store.getDefinition(record.definitionHash)
    if (flow === undefined) throw new FlowManagerError('FLOW_NOT_FOUND', `the definition of execution "${record.id}" is missing`)
    return (await planFor(flow, record.definitionHash)).plan
  }

  /** Takes over an execution this node just claimed: starts it, or resumes it where it stopped. */
  const adopt = async (record: ExecutionRecord): Promise<void> => {
    // A queued execution that never started has no task runs: the claimed row is all there is.
    const detail = record.status === 'pending' && record.steps === 0 ? { execution: record, runs: [] } : await store.getExecution(record.id)
    if (detail === undefined || isTerminal(detail.execution.status)) return
    const execution = { ...detail.execution, leaseOwner: nodeId }
    const l = newLive(await loadPlan(execution), execution, execution.input)
    restoreRuns(l, detail.runs)
    const at = clock.now()
    const events: EventWrite[] = []
    const cut = detail.runs.at(-1)
    const interrupted = cut?.status === 'running' ? cut : undefined
    const interruptRun = interrupted === undefined ? undefined : { seq: interrupted.seq, at }
    if (interrupted !== undefined) {
      l.runs[l.runs.length - 1] = { ...interrupted, status: 'interrupted', finishedAt: at }
      event(l, events, 'task_interrupted', at, interrupted.taskName, { seq: interrupted.seq, attempt: interrupted.attempt })
    }
    let decision: Decision
    if (execution.cancelRequested) {
      decision = advance(l.plan, l.state, { type: 'cancel', reason: 'the execution was cancelled' })
    } else if (execution.status === 'pending') {
      decision = advance(l.plan, l.state, { type: 'start' })
      event(l, events, 'execution_started', at, null, { flow_id: execution.flowId, flow_version: execution.flowVersion, node: nodeId })
    } else {
      // Re-issue the command that was in flight (or the retry that was waiting): the same task at the same step, as the next attempt.
      decision = rerun(l.plan, l.state, cut !== undefined && cut.taskName === execution.currentTask ? cut.attempt + 1 : 1)
      event(l, events, 'execution_resumed', at, null, { reason: 'recovered', previous_owner: record.leaseOwner, node: nodeId })
    }
    l.state = decision.state
    const startRun = beginRun(l, decision, at, events)
    await runner.launch(l, decision, stepWrite(l, at, nodeId, at + leaseMs, events, { interruptRun, startRun }))
    logger.info({ executionId: l.id, interruptedTask: interrupted?.taskName }, interrupted === undefined ? 'execution taken over' : 'execution recovered')
  }

  /**
   * A Started whose `done` begins waiting only when someone asks for it: a queued execution
   * nobody awaits must not cost reads of the store until it ends.
   */
  const started = (executionId: string, created: boolean): Started => {
    let done: Promise<ExecutionDetail> | undefined
    return {
      executionId,
      created,
      get done() {
        done ??= engine.waitForEnd(executionId)
        return done
      },
    }
  }

  const engine: Engine = {
    store,
    tasks,
    nodeId,
    validate,
    async registerFlow(json) {
      const flow = accept(json)
      const record = await store.registerFlow(hashOf(flow), flow, clock.now())
      if (flowCacheMs > 0) latest.set(record.id, { record, until: clock.monotonic() + flowCacheMs })
      return record
    },
    async start(source, startOptions = {}) {
      refuseWhenClosing()
      const key = startOptions.idempotencyKey
      const { plan, hash, version } = await resolveSource(source)
      const input = startOptions.input ?? {}
      let inputJson: string
      try {
        inputJson = JSON.stringify(input)
      } catch (error) {
        throw new FlowManagerError('INPUT_INVALID', `the execution input is not JSON: ${(error as Error).message}`)
      }
      const replay = async (): Promise<Started | undefined> => {
        const existing = key === undefined ? undefined : await store.findExecutionByIdempotencyKey(key)
        if (existing === undefined) return undefined
        // A key names one request: reusing it for another flow or input is a client bug, not a replay.
        if (existing.definitionHash !== hash || JSON.stringify(existing.input) !== inputJson) {
          throw new FlowManagerError(
            'IDEMPOTENCY_KEY_REUSED',
            `idempotency key "${key}" was used for execution "${existing.id}" with a different flow or input; use a new key for a new request`,
          )
        }
        return started(existing.id, false)
      }
      const replayed = await replay()
      if (replayed !== undefined) return replayed
      const createdAt = clock.now()
      const id = newId()
      const queued = live.size >= maxConcurrent
      const execution: ExecutionRecord = {
        id,
        flowId: plan.flow.id,
        flowVersion: version,
        definitionHash: hash,
        input,
        idempotencyKey: key ?? null,
        createdAt,
        ...storedState(INITIAL_STATE),
        startedAt: null,
        finishedAt: null,
        leaseOwner: queued ? null : nodeId,
        cancelRequested: false,
        eventSeq: 0,
      }
      const create = { id, flowId: plan.flow.id, flowVersion: version, definitionHash: hash, inputJson, idempotencyKey: key ?? null, createdAt }
      const l = newLive(plan, execution, input)
      const events: EventWrite[] = []
      try {
        if (queued) {
          // Over the concurrency limit: recorded as queued, for this node or any other to claim.
          event(l, events, 'execution_queued', createdAt, null, { flow_id: plan.flow.id, flow_version: version })
          const pending = store.write(stepWrite(l, createdAt, nodeId, null, events, { create }))
          if (pending !== undefined) await pending
          worker.queuedHere()
          return started(id, true)
        }
        const decision = advance(plan, l.state, { type: 'start' })
        l.state = decision.state
        l.startedAt = createdAt
        event(l, events, 'execution_started', createdAt, null, { flow_id: plan.flow.id, flow_version: version, node: nodeId })
        const startRun = beginRun(l, decision, createdAt, events)
        const { done } = await runner.launch(l, decision, stepWrite(l, createdAt, nodeId, createdAt + leaseMs, events, { create, startRun }))
        return { executionId: id, created: true, done }
      } catch (error) {
        // Two requests with one idempotency key raced: the loser answers with the winner's execution.
        const winner = await replay()
        if (winner !== undefined) return winner
        throw error
      }
    },
    async run(source, startOptions) {
      return (await engine.start(source, startOptions)).done
    },
    async cancel(executionId, reason) {
      const here = live.get(executionId)
      if (here !== undefined) {
        runner.cancel(here, reason)
        return engine.waitForEnd(executionId)
      }
      const detail = await store.getExecution(executionId)
      if (detail === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${executionId}"`)
      if (isTerminal(detail.execution.status)) {
        throw new FlowManagerError('EXECUTION_NOT_CANCELLABLE', `execution "${executionId}" is already ${detail.execution.status}`)
      }
      await store.requestCancel(executionId)
      runner.wakeEarly(executionId)
      if (detail.execution.leaseOwner === null) {
        // Queued or released: whoever claims it next records the cancellation at once; claim it here.
        worker.queuedHere()
        return engine.waitForEnd(executionId)
      }
      return (await store.getExecution(executionId)) ?? detail
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
      const input = resumeOptions.input ?? record.input
      const l = newLive(await loadPlan(record), { ...record, leaseOwner: nodeId }, input)
      restoreRuns(l, detail.runs)
      const at = clock.now()
      const events: EventWrite[] = []
      const decision = advance(l.plan, l.state, { type: 'resume' })
      l.state = decision.state
      l.finishedAt = null
      event(l, events, 'execution_resumed', at, null, { reason: 'resume', from_task: record.failedTask, input_replaced: resumeOptions.input !== undefined })
      const startRun = beginRun(l, decision, at, events)
      // A failed execution has no owner: this write takes it, and fails if another node just did.
      const step = stepWrite(l, at, nodeId, at + leaseMs, events, { startRun, takeover: true })
      let done: Promise<ExecutionDetail>
      try {
        done = (await runner.launch(l, decision, step)).done
      } catch (error) {
        if (error instanceof LeaseLostError) throw new FlowManagerError('EXECUTION_NOT_RESUMABLE', `execution "${executionId}" is being resumed already`)
        throw error
      }
      return { executionId, created: false, done }
    },
    get: (executionId) => store.getExecution(executionId),
    waitForEnd: (executionId, signal) => runner.waitForEnd(executionId, signal),
    subscribe: (listener) => runner.subscribe(listener),
    startWorker: () => worker.start(),
    async close(closeOptions = {}) {
      closing = true
      await worker.stop()
      await runner.drain(closeOptions.graceMs ?? 10_000)
      await store.release(nodeId).catch((error: unknown) => logger.warn({ err: error }, 'could not hand back leases'))
    },
    get running() {
      return live.size
    },
  }
  return engine
}
