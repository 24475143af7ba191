import { FlowManagerError } from '../core/errors.js'
import type { ExecutionState } from '../core/execution-state.js'
import { isTerminal } from '../core/execution-state.js'
import type { FlowPlan } from '../core/plan.js'
import { MAX_SUBFLOW_DEPTH } from '../core/system-tasks.js'
import type { TaskFailure } from '../core/task-result.js'
import { LeaseLostError, type ClaimedExecution, type ExecutionRecord, type HeartbeatResult, type NewExecution, type Store, type TaskRunRecord } from '../store/store.js'
import type { Logger, TaskRegistry } from '../tasks/define-task.js'
import type { ActorEnd, ActorEnv, ActorView, ExecutionIdentity, Mail } from './actor-env.js'
import type { EngineListener } from './engine-events.js'
import { ExecutionActor } from './execution-actor.js'
import { buildStep } from './step-writer.js'
import type { FlowResolver } from './flow-resolver.js'
import { createScheduler } from './scheduler.js'
import type { Clock, Timers } from './timers.js'
import type { Waiters } from './waiters.js'
import type { Worker } from './worker.js'

export interface ActorsDeps {
  readonly store: Store
  readonly tasks: TaskRegistry
  readonly clock: Clock
  readonly timers: Timers
  readonly logger: Logger
  readonly nodeId: string
  readonly leaseMs: number
  readonly dataLimit: number
  readonly storageLimit: number
  readonly maxRecoveries: number
  readonly flows: FlowResolver
  readonly listeners: ReadonlySet<EngineListener>
  readonly waiters: Waiters
  readonly worker: Worker
  readonly newId: () => string
}

export interface Actors {
  readonly size: number
  has(id: string): boolean
  ids(): string[]
  /** Starts a new execution here; resolves once its first step is recorded. */
  create(plan: FlowPlan, identity: ExecutionIdentity, create: NewExecution, input: unknown): Promise<void>
  /** Takes up an execution this node claimed: starts it, or goes on where it stopped. */
  adopt(record: ClaimedExecution): Promise<void>
  /** Runs a failed execution again from its failed task. */
  resume(id: string, input: unknown): Promise<void>
  post(id: string, mail: Mail): void
  poke(id: string): void
  /** What a heartbeat of `ids` found: cancels and pokes for the executions held, and which are held no more. */
  heartbeat(result: HeartbeatResult, ids: readonly string[]): void
  /** Waits up to `graceMs` for executions to end, then interrupts the rest and hands them back. */
  drain(graceMs: number): Promise<void>
}

const identityOf = (record: ExecutionRecord): ExecutionIdentity => ({
  id: record.id,
  flowId: record.flowId,
  flowVersion: record.flowVersion,
  definitionHash: record.definitionHash,
  createdAt: record.createdAt,
  idempotencyKey: record.idempotencyKey,
  parent: record.parent,
  depth: record.depth,
})

const stateOf = (record: ExecutionRecord): ExecutionState => ({
  status: record.status,
  steps: record.steps,
  stepBase: record.stepBase,
  seq: record.seq,
  failedTask: record.failedTask,
  error: record.error,
  deadline: record.deadline,
  threads: record.threads,
  nextThread: record.nextThread,
})

/**
 * The executions running on this node, each owned by its actor; the set only routes mail to them,
 * frees their slots when they stop, and gives them what they need from the node.
 */
export function createActors(deps: ActorsDeps): Actors {
  const { store, clock, logger, flows, waiters, worker } = deps
  const live = new Map<string, ExecutionActor>()
  const stops = new Set<() => void>()
  /** Claims of executions whose actor here was still stopping: taken up once it has stopped. */
  const afterStop = new Map<string, () => void>()

  const env: ActorEnv = {
    store,
    scheduler: createScheduler({ tasks: deps.tasks, clock, logger, maxResultBytes: deps.dataLimit }),
    clock,
    timers: deps.timers,
    logger,
    nodeId: deps.nodeId,
    leaseMs: deps.leaseMs,
    maxRecoveries: deps.maxRecoveries,
    storageLimit: deps.storageLimit,
    emit(notice) {
      for (const listener of deps.listeners) {
        try {
          listener(notice)
        } catch (error) {
          logger.warn({ err: error }, 'an engine listener threw')
        }
      }
    },
    listening: () => deps.listeners.size > 0,
    async prepareChild(parent, command): Promise<NewExecution | TaskFailure> {
      if (parent.depth + 1 > MAX_SUBFLOW_DEPTH) {
        return { message: `sub-flows nest deeper than ${MAX_SUBFLOW_DEPTH} levels: flow "${command.flowId}" would run at level ${parent.depth + 1}`, code: 'SUBFLOW_TOO_DEEP', retryable: false }
      }
      try {
        const source = command.version === null ? { flowId: command.flowId } : { flowId: command.flowId, version: command.version }
        const { hash, version, plan } = await flows.resolve(source)
        const inputJson = JSON.stringify(command.input)
        return {
          id: deps.newId(),
          flowId: plan.flow.id,
          flowVersion: version,
          definitionHash: hash,
          inputJson,
          idempotencyKey: null,
          createdAt: clock.now(),
          parent: { executionId: parent.id, seq: command.seq, task: command.task },
          depth: parent.depth + 1,
        }
      } catch (error) {
        if (error instanceof FlowManagerError) return { message: error.message, code: error.code, retryable: false }
        throw error
      }
    },
    async childResult(child) {
      if (child.status === 'completed') {
        const latest = await store.latestResults(child.id)
        const results: Record<string, unknown> = Object.create(null) as Record<string, unknown>
        for (const run of latest) results[run.taskName] = run.data
        return { status: 'success', data: { execution_id: child.id, status: child.status, results } }
      }
      const why = child.error?.message ?? child.status
      return { status: 'failure', error: { message: `sub-flow execution ${child.id} (flow "${child.flowId}") ${child.status}: ${why}`, code: 'SUBFLOW_FAILED', retryable: false } }
    },
    lookForWork: () => worker.kick(),
    childrenCancelled(ids) {
      for (const id of ids) live.get(id)?.post({ kind: 'cancel', reason: 'its parent execution was cancelled' })
    },
    handBack: (id) => worker.handBack(id),
    stopped(actor: ActorView, end: ActorEnd) {
      if (live.get(actor.id) === actor) live.delete(actor.id)
      if (end.kind === 'finished') waiters.ended(actor.id, end.detail, end.small)
      else waiters.nudge(actor.id)
      // A sub-flow ended: its parent, when it runs here, takes the result now rather than at its
      // next heartbeat; parked, its end made the parent due, so look for it now, not at the next poll.
      if (end.kind === 'finished' && actor.identity.parent !== null) {
        const parent = live.get(actor.identity.parent.executionId)
        if (parent !== undefined) parent.poked()
        else worker.kick()
      }
      for (const stop of stops) stop()
      const claimedMeanwhile = afterStop.get(actor.id)
      if (claimedMeanwhile !== undefined) {
        afterStop.delete(actor.id)
        claimedMeanwhile()
      }
      // A slot freed: work may be waiting for it; a parked execution is due again some time.
      worker.slotFreed()
      if (end.kind === 'released' && end.wakeAt !== null) worker.dueAt(end.wakeAt)
    },
  }

  const start = (actor: ExecutionActor): void => {
    waiters.forget(actor.id)
    live.set(actor.id, actor)
    worker.alive()
  }

  /** An actor for a stored execution, its results and open runs restored from the store. */
  const restore = async (id: string, expect: (record: ExecutionRecord) => string | undefined, takeover: boolean): Promise<ExecutionActor | undefined> => {
    const snapshot = await store.loadForRecovery(id)
    if (snapshot === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${id}"`)
    const record = snapshot.execution
    const refusal = expect(record)
    if (refusal !== undefined) throw new FlowManagerError('EXECUTION_NOT_RESUMABLE', refusal)
    const plan = await flows.planOf(record.definitionHash, record.id)
    const childIds = new Map<number, string>()
    for (const run of snapshot.open) {
      const child = run.waitingFor !== null && 'child' in run.waitingFor ? run.waitingFor.child : null
      if (child !== null) childIds.set(run.seq, child)
    }
    const actor = new ExecutionActor(plan, identityOf(record), env, {
      state: stateOf(record),
      input: record.input,
      eventSeq: record.eventSeq,
      storedBytes: record.storedBytes,
      startedAt: record.startedAt,
      poke: record.poke,
      takeover,
      history: null,
      childIds,
    })
    const keeper = actor.keeper
    for (const run of snapshot.latest) {
      keeper.results[run.taskName] = { status: run.status as 'success' | 'failure', data: run.data, error: run.error?.message ?? null }
      keeper.sizes.set(run.taskName, bytesOf(run))
    }
    for (const f of snapshot.fanouts) keeper.restoreFanout(f.seq, f.items, f.ended.map((r) => ({ item: r.itemIndex ?? 0, data: r.data, bytes: bytesOf(r) })))
    for (const run of snapshot.open) {
      keeper.open.set(run.seq, { task: run.taskName, item: run.itemIndex, parentSeq: run.parentSeq })
      actor.restoreOpen(run.seq, { startedAt: run.startedAt, attempt: run.attempt, taskType: run.taskType })
    }
    return actor
  }

  /** An actor for a queued execution that never started, from its claimed row alone. */
  const fresh = async (record: ExecutionRecord): Promise<ExecutionActor> =>
    new ExecutionActor(await flows.planOf(record.definitionHash, record.id), identityOf(record), env, {
      state: stateOf(record),
      input: record.input,
      eventSeq: record.eventSeq,
      storedBytes: record.storedBytes,
      startedAt: record.startedAt,
      poke: record.poke,
      history: [],
    })

  /** Fails an execution whose definition is gone: one step, from the claimed row. */
  const failUnrunnable = async (record: ExecutionRecord, why: string): Promise<void> => {
    const at = clock.now()
    const state: ExecutionState = { ...stateOf(record), status: 'failed', threads: [], error: { code: 'ENGINE_ERROR', message: why } }
    const step = buildStep(
      {
        executionId: record.id,
        owner: deps.nodeId,
        at,
        leaseMs: deps.leaseMs,
        takeover: false,
        create: undefined,
        inputJson: undefined,
        startedAt: record.startedAt,
        eventSeq: record.eventSeq,
        storedBytes: record.storedBytes,
        outcomes: new Map(),
        open: new Map(),
        childIds: new Map(),
        children: [],
        parentId: record.parent?.executionId ?? null,
        leading: [],
        poke: record.poke,
      },
      state,
      [{ type: 'finish', status: 'failed' }],
    )
    const pending = store.write(step.write)
    if (pending !== undefined) await pending
  }

  return {
    get size() {
      return live.size
    },
    has: (id) => live.has(id),
    ids: () => [...live.keys()],
    async create(plan, identity, create, input) {
      const actor = new ExecutionActor(plan, identity, env, { state: stateOfNew, input, eventSeq: 0, storedBytes: create.inputJson.length, startedAt: null, poke: 0, create, history: [] })
      start(actor)
      actor.post({ kind: 'start' })
      try {
        await actor.recorded
      } catch (error) {
        if (live.get(identity.id) === actor) live.delete(identity.id)
        throw storeError(error)
      }
    },
    async adopt(claimed) {
      if (live.has(claimed.id)) {
        // Its actor here parked it (the lease given back, due at once) and the claim read that
        // before the actor had stopped: take it up once it has, rather than leave the new lease
        // held by nobody until it expires.
        afterStop.set(claimed.id, () => {
          this.adopt(claimed).catch((error: unknown) => logger.error({ err: error, executionId: claimed.id }, 'could not take up a claimed execution; it is taken up when its lease expires'))
        })
        return
      }
      let actor: ExecutionActor | undefined
      try {
        // A queued execution that never started has nothing recorded but its row: the claim read it already.
        actor = claimed.status === 'pending' && claimed.seq === 0 ? await fresh(claimed) : await restore(claimed.id, () => undefined, false)
      } catch (error) {
        if (!(error instanceof FlowManagerError) || error.code !== 'FLOW_NOT_FOUND') throw error
        // A definition that cannot be found can never run: the execution fails, rather than be claimed for ever.
        logger.error({ executionId: claimed.id, err: error }, 'execution cannot be run: its definition is missing')
        await failUnrunnable(claimed, error.message)
        return
      }
      if (actor === undefined || isTerminal(actor.state.status)) {
        await store.release(deps.nodeId, [claimed.id])
        return
      }
      // What it waits for is read before the actor counts as running here: a read that fails leaves nothing behind.
      const first: Mail[] = claimed.cancelRequested
        ? [{ kind: 'cancel', reason: 'the execution was cancelled' }]
        : claimed.status === 'pending'
          ? [{ kind: 'start' }]
          : [{ kind: 'recover', handedBack: !claimed.takenOver }, ...(await actor.arrived())]
      start(actor)
      actor.postAll(first)
    },
    async resume(id, input) {
      const actor = await restore(
        id,
        (record) => {
          if (record.status === 'failed' && record.failedTask !== null) return undefined
          const why = record.status === 'failed' ? 'it did not fail in a task' : `it is ${record.status}, not failed`
          return `execution "${id}" cannot be resumed: ${why}`
        },
        true,
      )
      if (actor === undefined) return
      // Another resume read it failed too and got here first: one resumes it, the other is refused.
      if (live.has(id)) throw new FlowManagerError('EXECUTION_NOT_RESUMABLE', `execution "${id}" is being resumed already`)
      start(actor)
      actor.post({ kind: 'resume', input: input === undefined ? actor.keeper.input : (JSON.parse(JSON.stringify(input)) as unknown), replaced: input !== undefined })
      try {
        await actor.recorded
      } catch (error) {
        if (live.get(id) === actor) live.delete(id)
        if (error instanceof LeaseLostError) throw new FlowManagerError('EXECUTION_NOT_RESUMABLE', `execution "${id}" is being resumed already`)
        throw storeError(error)
      }
    },
    post: (id, mail) => live.get(id)?.post(mail),
    poke: (id) => live.get(id)?.poked(),
    heartbeat(result, ids) {
      // Not renewed: another node took it over (this one was paused, or cut off, past its liveness).
      // Its runs stop here now rather than at their next write, which would be refused.
      const held = new Set(result.pokes.map((p) => p.id))
      for (const id of ids) {
        const actor = held.has(id) ? undefined : live.get(id)
        if (actor?.holdsLease !== true) continue
        // Read again before stopping it: the heartbeat may have raced a hand-back and a new claim of it here.
        store
          .getExecutionRecord(id)
          .then((record) => {
            if (live.get(id) === actor && record?.leaseOwner !== deps.nodeId) actor.post({ kind: 'lost' })
          })
          .catch(() => undefined)
      }
      for (const id of result.cancelRequested) live.get(id)?.post({ kind: 'cancel', reason: 'cancelled on request from another node' })
      for (const { id, poke } of result.pokes) live.get(id)?.poked(poke)
    },
    async drain(graceMs) {
      const empty = (): Promise<void> =>
        new Promise((resolve) => {
          if (live.size === 0) return resolve()
          const check = (): void => {
            if (live.size > 0) return
            stops.delete(check)
            resolve()
          }
          stops.add(check)
        })
      let timer: NodeJS.Timeout | undefined
      await Promise.race([empty(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))])
      clearTimeout(timer)
      // Whatever still runs is interrupted and handed back: it goes on at the next start, or on another node.
      for (const actor of live.values()) actor.post({ kind: 'suspend' })
      let last: NodeJS.Timeout | undefined
      await Promise.race([empty(), new Promise<void>((resolve) => (last = setTimeout(resolve, 5000)))])
      clearTimeout(last)
    },
  }
}

const stateOfNew: ExecutionState = { status: 'pending', steps: 0, stepBase: 0, seq: 0, failedTask: null, error: null, deadline: null, threads: [], nextThread: 0 }
const bytesOf = (run: TaskRunRecord): number => (run.data === null || run.data === undefined ? 0 : JSON.stringify(run.data).length)

/** A store that cannot write answers STORE_UNAVAILABLE (503 at the HTTP edge), whatever its driver said. */
function storeError(error: unknown): unknown {
  if (error instanceof FlowManagerError || error instanceof LeaseLostError) return error
  return new FlowManagerError('STORE_UNAVAILABLE', `the execution could not be recorded: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
}
