import { pino } from 'pino'
import { INITIAL_STATE, isTerminal, type ExecutionState } from '../core/execution-state.js'
import { FlowManagerError } from '../core/errors.js'
import type { ParseFlowResult } from '../core/parse-flow.js'
import type { ExecutionDetail, ExecutionRecord, RegisteredFlow, Store } from '../store/store.js'
import type { Logger, TaskRegistry } from '../tasks/define-task.js'
import type { ExecutionIdentity } from './actor-env.js'
import { createActors, type Actors } from './actors.js'
import type { EngineListener } from './engine-events.js'
import { createFlowResolver, type FlowSource } from './flow-resolver.js'
import { uuidv7 } from './ids.js'
import { newNodeIdentity } from './node-liveness.js'
import { createReadModel, type ReadModel } from './read-model.js'
import { sendSignal } from './signals.js'
import { buildStep } from './step-writer.js'
import { systemClock, systemTimers, type Clock, type Timers } from './timers.js'
import { Waiters } from './waiters.js'
import { createWorker } from './worker.js'

export { systemClock, type Clock, type Timers } from './timers.js'
export type { FlowSource } from './flow-resolver.js'

export interface EngineOptions {
  readonly store: Store
  readonly tasks: TaskRegistry
  readonly clock?: Clock
  /** When things are due (timeouts, retries, the worker's next look); tests pass fake timers. Default: the system's. */
  readonly timers?: Timers
  readonly newId?: () => string
  readonly logger?: Logger
  /** This node's identity as a lease owner. Default `host/pid/random`. */
  readonly nodeId?: string
  /** Largest execution input, task input after mapping and task result, in bytes of JSON. Default 1 MiB. */
  readonly dataLimit?: number
  /** @deprecated use dataLimit. */
  readonly maxResultBytes?: number
  /** Most bytes one execution stores in all (inputs, results, events). Default 64 MiB. */
  readonly storageLimit?: number
  /** Runs of one task cut off by crashes in a row before the execution fails with TASK_CRASHED. Default 3. */
  readonly maxRecoveries?: number
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
  /** How long a node's liveness row may go without a beat before its work is taken over, in ms. Default 5000. */
  readonly staleNodeMs?: number
}

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
  /** Executions, their runs and their logs, read within bounds: what the HTTP API and the UI show. */
  readonly reads: ReadModel
  /** Validates a flow document against the schema and this engine's task types. */
  validate(json: unknown): ParseFlowResult
  /**
   * Registers a flow definition as the next version of its id, or answers the latest version
   * (`created: false`) when the definition is unchanged. Throws FLOW_INVALID with the issues.
   */
  registerFlow(json: unknown, options?: { readonly allowUnregisteredTypes?: boolean }): Promise<RegisteredFlow>
  /** Starts an execution; resolves once it is recorded (running here, or queued), while it goes on. */
  start(source: FlowSource, options?: StartOptions): Promise<Started>
  /** Starts an execution and waits for its end. */
  run(source: FlowSource, options?: StartOptions): Promise<ExecutionDetail>
  /**
   * Cancels a pending or running execution. A cancel either wins (the answer is the cancelled
   * execution, and nothing after it is recorded) or loses to the execution's end
   * (EXECUTION_NOT_CANCELLABLE). On another node, the cancel is requested and waited for.
   */
  cancel(executionId: string, reason?: string): Promise<ExecutionDetail>
  /** Runs a failed execution again from its failed task, optionally with a new input (recorded). */
  resume(executionId: string, options?: { input?: unknown }): Promise<Started>
  /** Sends a signal to an execution: kept until a wait_for_signal task takes it. */
  signal(executionId: string, name: string, payload: unknown): Promise<void>
  get(executionId: string): Promise<ExecutionDetail | undefined>
  /** Waits for an execution to end, wherever it runs. */
  waitForEnd(executionId: string, signal?: AbortSignal): Promise<ExecutionDetail>
  /** Listens to what the engine does; returns the function that stops listening. */
  subscribe(listener: EngineListener): () => void
  /**
   * Starts taking work from the store: executions left by a stopped node, expired leases, queued
   * and parked executions that are due. `serve` and `worker` call it; a library user may.
   */
  startWorker(): void
  /**
   * Stops taking new work, lets running task runs finish for up to `graceMs` (default 10 s), then
   * interrupts the rest and hands their leases back: they go on at the next start or on another node.
   */
  close(options?: { graceMs?: number }): Promise<void>
  /** Executions running in this process now. */
  readonly running: number
}

export function createEngine(options: EngineOptions): Engine {
  const { store, tasks } = options
  const clock = options.clock ?? systemClock
  const timers = options.timers ?? systemTimers(clock)
  const newId = options.newId ?? (() => uuidv7(clock.now()))
  const logger: Logger = options.logger ?? pino({ level: 'silent' })
  const node = newNodeIdentity(clock.now(), options.nodeId)
  const leaseMs = options.leaseMs ?? 30_000
  const maxConcurrent = options.maxConcurrent ?? 256
  const dataLimit = options.dataLimit ?? options.maxResultBytes ?? 1024 * 1024
  const flows = createFlowResolver({ store, tasks, clock, cacheMs: options.flowCacheMs ?? 1000, dataLimit })
  const listeners = new Set<EngineListener>()
  let closing = false

  // The waiters and the worker ask the actors (made below) only once work comes.
  const waiters = new Waiters(store, clock, timers, (id) => live.has(id))
  const worker = createWorker({
    store,
    clock,
    timers,
    logger,
    node,
    leaseMs,
    pollMs: options.pollMs ?? 1000,
    staleMs: options.staleNodeMs ?? 5000,
    capacity: maxConcurrent,
    freeSlots: () => maxConcurrent - live.size,
    liveIds: () => live.ids(),
    adopt: (record) => live.adopt(record),
    onHeartbeat: (result, ids) => live.heartbeat(result, ids),
  })
  const live: Actors = createActors({
    store,
    tasks,
    clock,
    timers,
    logger,
    nodeId: node.id,
    leaseMs,
    dataLimit,
    storageLimit: options.storageLimit ?? 64 * 1024 * 1024,
    maxRecoveries: options.maxRecoveries ?? 3,
    flows,
    listeners,
    waiters,
    worker,
    newId,
  })

  const refuseWhenClosing = (): void => {
    if (closing) throw new FlowManagerError('SHUTTING_DOWN', 'the engine is shutting down and takes no new executions')
  }

  const engine: Engine = {
    store,
    tasks,
    nodeId: node.id,
    reads: createReadModel(store, (id, maxAgeMs) => waiters.recent(id, maxAgeMs)),
    validate: (json) => flows.validate(json),
    registerFlow: (json, registerOptions) => flows.register(json, registerOptions?.allowUnregisteredTypes === true),
    async start(source, startOptions = {}) {
      refuseWhenClosing()
      const key = startOptions.idempotencyKey
      const { plan, hash, version } = await flows.resolve(source)
      const input = startOptions.input ?? {}
      let inputJson: string | undefined
      try {
        inputJson = JSON.stringify(input)
      } catch (error) {
        throw new FlowManagerError('INPUT_INVALID', `the execution input is not JSON: ${(error as Error).message}`)
      }
      if (inputJson === undefined) throw new FlowManagerError('INPUT_INVALID', 'the execution input is not JSON')
      if (inputJson.length > dataLimit) {
        throw new FlowManagerError('DATA_TOO_LARGE', `the execution input is ${inputJson.length} bytes, over the data limit of ${dataLimit} (FLOW_MANAGER_DATA_LIMIT)`)
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
      const identity: ExecutionIdentity = { id: newId(), flowId: plan.flow.id, flowVersion: version, definitionHash: hash, createdAt, idempotencyKey: key ?? null, parent: null, depth: 0 }
      const create = { id: identity.id, flowId: identity.flowId, flowVersion: version, definitionHash: hash, inputJson, idempotencyKey: key ?? null, createdAt }
      try {
        if (live.size >= maxConcurrent) {
          // Over the concurrency limit: recorded as queued, for this node or any other to claim.
          await queue(identity, create)
          worker.kick()
          return started(identity.id, true)
        }
        await live.create(plan, identity, create, JSON.parse(inputJson) as unknown)
        return started(identity.id, true)
      } catch (error) {
        // Two requests with one idempotency key raced: the loser answers with the winner's execution.
        const winner = await replay().catch(() => undefined)
        if (winner !== undefined) return winner
        // A commit whose answer was lost (a connection cut at the wrong moment) stored it all the
        // same: it is answered as started, and it runs once its lease is handed back.
        if (await store.getExecutionRecord(identity.id).then((r) => r !== undefined, () => false)) {
          worker.kick()
          return started(identity.id, true)
        }
        throw error
      }
    },
    async run(source, startOptions) {
      return (await engine.start(source, startOptions)).done
    },
    async cancel(executionId, reason = 'the execution was cancelled') {
      if (live.has(executionId)) {
        live.post(executionId, { kind: 'cancel', reason })
        return cancelOutcome(executionId, await engine.waitForEnd(executionId))
      }
      const record = await store.getExecutionRecord(executionId)
      if (record === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${executionId}"`)
      if (isTerminal(record.status)) throw notCancellable(executionId, record.status)
      await store.requestCancel(executionId, clock.now())
      // Parked or queued: whoever claims it next (this node, now) records the cancellation.
      if (record.leaseOwner === null) worker.kick()
      const ended = await waitAWhile(executionId, leaseMs)
      if (ended !== undefined) return cancelOutcome(executionId, ended)
      return (await store.getExecution(executionId, { maxRuns: 1000, maxDataBytes: 8 * 1024 * 1024 })) ?? { execution: record, runs: [] }
    },
    async resume(executionId, resumeOptions = {}) {
      refuseWhenClosing()
      if (live.has(executionId)) throw new FlowManagerError('EXECUTION_NOT_RESUMABLE', `execution "${executionId}" is running`)
      if (resumeOptions.input !== undefined) {
        const json = JSON.stringify(resumeOptions.input)
        if (json !== undefined && json.length > dataLimit) throw new FlowManagerError('DATA_TOO_LARGE', `the new input is ${json.length} bytes, over the data limit of ${dataLimit}`)
      }
      await live.resume(executionId, resumeOptions.input)
      return started(executionId, false)
    },
    async signal(executionId, name, payload) {
      await sendSignal(store, executionId, name, payload, { dataLimit, at: clock.now() })
      if (live.has(executionId)) live.poke(executionId)
      else worker.kick()
    },
    get: (executionId) => store.getExecution(executionId),
    waitForEnd: (executionId, signal) => waiters.wait(executionId, signal),
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    startWorker: () => worker.start(),
    async close(closeOptions = {}) {
      closing = true
      await worker.stop()
      await live.drain(closeOptions.graceMs ?? 10_000)
      waiters.close()
      await store.release(node.id).catch((error: unknown) => logger.warn({ err: error }, 'could not hand back leases'))
    },
    get running() {
      return live.size
    },
  }

  /** A Started whose `done` begins waiting only when asked for: a queued execution nobody awaits costs no reads. */
  function started(executionId: string, created: boolean): Started {
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

  async function queue(identity: ExecutionIdentity, create: Parameters<typeof buildStep>[0]['create']): Promise<void> {
    const state: ExecutionState = INITIAL_STATE
    const step = buildStep(
      {
        executionId: identity.id,
        owner: node.id,
        at: identity.createdAt,
        leaseMs,
        takeover: false,
        create,
        inputJson: undefined,
        startedAt: null,
        eventSeq: 0,
        storedBytes: create?.inputJson.length ?? 0,
        outcomes: new Map(),
        open: new Map(),
        childIds: new Map(),
        children: [],
        parentId: null,
        leading: [{ type: 'execution_queued', data: { flow_id: identity.flowId, flow_version: identity.flowVersion } }],
        poke: 0,
      },
      state,
      [],
    )
    const pending = store.write(step.write)
    if (pending !== undefined) await pending
  }

  /** The end of an execution within `ms`, or undefined when it has not ended by then. */
  async function waitAWhile(executionId: string, ms: number): Promise<ExecutionDetail | undefined> {
    const controller = new AbortController()
    const timer = timers.at(clock.now() + ms, () => controller.abort())
    try {
      return await engine.waitForEnd(executionId, controller.signal)
    } catch (error) {
      if (controller.signal.aborted) return undefined
      throw error
    } finally {
      timer.cancel()
    }
  }

  return engine
}

function notCancellable(id: string, status: string): FlowManagerError {
  return new FlowManagerError('EXECUTION_NOT_CANCELLABLE', `execution "${id}" is already ${status}`)
}

/** A cancel that lost the race to the execution's end says so, with the end it lost to. */
function cancelOutcome(id: string, detail: ExecutionDetail): ExecutionDetail {
  if (detail.execution.status !== 'cancelled') throw notCancellable(id, detail.execution.status)
  return detail
}

export type { ExecutionRecord }
