import type { ClaimedExecution, HeartbeatResult, Store } from '../store/store.js'
import { isStoreUnavailable } from '../store/store-errors.js'
import type { Logger } from '../tasks/define-task.js'
import { deadOwners, type NodeIdentity } from './node-liveness.js'
import type { Clock, TimerHandle, Timers } from './timers.js'

export interface WorkerDeps {
  readonly store: Store
  readonly clock: Clock
  readonly timers: Timers
  readonly logger: Logger
  readonly node: NodeIdentity
  readonly leaseMs: number
  /** How often an idle worker looks for work when nothing wakes it, in ms. */
  readonly pollMs: number
  /** How long a node's liveness row may go without a beat before its work is taken, in ms. */
  readonly staleMs: number
  /** Most executions this node runs at once; with 0 it only queues work for other nodes, and never claims or polls. */
  readonly capacity: number
  /** Executions this node may still take on. */
  readonly freeSlots: () => number
  /** Executions running here now (their leases are renewed, their cancellations and pokes looked at). */
  readonly liveIds: () => readonly string[]
  /** Takes up an execution this node just claimed. */
  readonly adopt: (record: ClaimedExecution) => Promise<void>
  /** What a heartbeat found for `ids`, the executions it renewed. */
  readonly onHeartbeat: (result: HeartbeatResult, ids: readonly string[]) => void
}

export interface Worker {
  /**
   * Begins claiming work: executions of stopped nodes, expired leases, queued and due ones. With
   * `keepAlive`, it keeps the process running while idle (serve and worker want that; an engine
   * that only queued some of its own executions does not).
   */
  start(keepAlive?: boolean): void
  /** There may be work now (queued here, a signal, a cancel, a release): look at once. */
  kick(): void
  /**
   * A slot freed. The worker looks again only when it may have left work behind: its last claim
   * filled every slot, or work was announced since. An execution ending costs no query otherwise.
   */
  slotFreed(): void
  /** An execution parked here is due at `at`: the worker makes sure to look by then. */
  dueAt(at: number): void
  /** The node holds leases: beat and heartbeat even when not claiming. */
  alive(): void
  /**
   * Gives back the lease of an execution that stopped here without ending (a step could not be
   * recorded): at once, and again at every beat until the store takes it, so that it goes on (here
   * or elsewhere) without waiting for the lease to expire.
   */
  handBack(id: string): void
  stop(): Promise<void>
}

/** Beats of the liveness row: often, so that a stopped node is noticed within a few seconds. */
const BEAT_MS = 1000
/** Longest time between two looks for work cut off by a stopped node while news of work keeps the worker from polling. */
const RECOVERY_LOOK_MS = 1000

/**
 * Takes work from the store while slots are free, and proves this node alive: a liveness row that
 * beats every second, and lease renewals for the executions it runs. An idle worker sleeps until
 * the earliest parked execution is due (or its poll interval, or a kick): one query finds what is
 * due, so a parked execution costs no timer here.
 */
export function createWorker(deps: WorkerDeps): Worker {
  const { store, clock, timers, logger, node, leaseMs, pollMs, staleMs } = deps
  let started = false
  let stopped = false
  let keepAlive = false
  let adopting = 0
  let kicked = false
  /** The last claim filled every free slot: more work may wait. */
  let saturated = false
  /** Work was announced (kicked) while no slot was free. */
  let owed = false
  /** When the idle worker will look next, if it sleeps. */
  let sleepingUntil = Infinity
  let wakeUp: (() => void) | undefined
  let loop: Promise<void> | undefined
  let unsubscribe: (() => void) | undefined
  let beating: NodeJS.Timeout | undefined
  let lastHeartbeat = 0
  /** The claim about to run answers news of work rather than a poll. */
  let woken = false
  let lastRecoveryLook = -Infinity
  const handingBack = new Set<string>()

  const wake = (): void => {
    kicked = true
    woken = true
    sleepingUntil = Infinity
    const resolve = wakeUp
    wakeUp = undefined
    resolve?.()
  }

  const idle = async (): Promise<void> => {
    if (kicked) return
    // What the last claim took starts first: its first step goes to the database before this query.
    await new Promise<void>((resolve) => setImmediate(resolve))
    if (kicked || stopped) return
    let until = clock.now() + pollMs
    const next = await store.nextWake().catch(() => null)
    if (next !== null && next < until) until = Math.max(next, clock.now())
    if (kicked || stopped) return
    await new Promise<void>((resolve) => {
      const timer: { handle?: TimerHandle } = {}
      const done = (): void => {
        timer.handle?.cancel()
        resolve()
      }
      wakeUp = done
      sleepingUntil = until
      // Only a worker started on purpose keeps the process alive while idle.
      timer.handle = timers.at(until, done, { weak: !keepAlive })
    })
  }

  const claimOnce = async (): Promise<boolean> => {
    const free = deps.freeSlots() - adopting
    if (free <= 0) {
      owed = true
      return false
    }
    const now = clock.now()
    // Work cut off by a stopped node is looked for on every poll, and at most once a second when
    // the claim answers news of work (a notification, a kick, a freed slot): that path is the
    // queue's latency, and the look costs two queries and an update.
    const recover = !woken || now - lastRecoveryLook >= RECOVERY_LOOK_MS || now < lastRecoveryLook
    woken = false
    let dead: readonly string[] = []
    if (recover) {
      lastRecoveryLook = now
      const [owners, nodes] = await Promise.all([store.listLeaseOwners(), store.listNodes()])
      dead = deadOwners(owners, nodes, node.record(now), now, staleMs)
    }
    const claimed = await store.claim({ owner: node.id, limit: free, now, leaseMs, deadOwners: dead, recover })
    for (const record of claimed) {
      adopting++
      deps
        .adopt(record)
        .catch((error: unknown) => {
          // The database failed us: give it back for another try soon, rather than hold it until the lease expires.
          const transient = isStoreUnavailable(error)
          logger.error({ err: error, executionId: record.id }, transient ? 'could not take over a claimed execution; handing it back' : 'could not take over a claimed execution')
          if (transient) handBack(record.id)
        })
        .finally(() => {
          adopting--
        })
    }
    if (claimed.length > 0) alive()
    saturated = claimed.length >= free
    return saturated
  }

  const run = async (): Promise<void> => {
    while (!stopped) {
      kicked = false
      let more = false
      try {
        more = await claimOnce()
      } catch (error) {
        logger.warn({ err: error }, 'claiming work failed; retrying at the next poll')
      }
      if (!more && !stopped) await idle()
    }
  }

  const releaseHandedBack = async (): Promise<void> => {
    // One taken up again here meanwhile (its lease expired) is running: it is not given away.
    const live = new Set(deps.liveIds())
    const ids = [...handingBack].filter((id) => !live.has(id))
    handingBack.clear()
    if (ids.length === 0) return
    try {
      await store.release(node.id, ids)
    } catch (error) {
      for (const id of ids) handingBack.add(id)
      throw error
    }
    wake()
  }

  const handBack = (id: string): void => {
    handingBack.add(id)
    releaseHandedBack().catch((error: unknown) => logger.warn({ err: error, executionId: id }, 'could not hand the execution back yet; trying again at the next beat'))
    alive()
  }

  const beat = async (): Promise<void> => {
    const now = clock.now()
    await store.beat(node.record(now))
    if (handingBack.size > 0) await releaseHandedBack()
    const ids = deps.liveIds()
    if (ids.length > 0 && now - lastHeartbeat >= leaseMs / 3) {
      lastHeartbeat = now
      deps.onHeartbeat(await store.heartbeat(node.id, ids, now, leaseMs), ids)
    }
  }

  const alive = (): void => {
    if (beating !== undefined || stopped) return
    beat().catch((error: unknown) => logger.warn({ err: error }, 'liveness beat failed'))
    beating = setInterval(() => {
      beat().catch((error: unknown) => logger.warn({ err: error }, 'liveness beat failed'))
    }, BEAT_MS)
    beating.unref()
  }

  return {
    start(alive_ = true) {
      keepAlive ||= alive_
      if (started || stopped || deps.capacity <= 0) return
      started = true
      alive()
      unsubscribe = store.subscribeWork?.(() => {
        // Another node queued work, asked for a cancel or sent a signal: claim, and look at our own at once
        // (with none running here, the beat would only race the claim for the database).
        if (deps.liveIds().length > 0) {
          lastHeartbeat = 0
          beat().catch(() => undefined)
        }
        wake()
      })
      loop = run()
    },
    kick() {
      if (!started) this.start(false)
      else wake()
    },
    dueAt(at) {
      if (!started) this.start(false)
      else if (at < sleepingUntil) wake()
    },
    slotFreed() {
      if (!started || (!saturated && !owed)) return
      saturated = false
      owed = false
      wake()
    },
    alive,
    handBack,
    async stop() {
      stopped = true
      if (beating !== undefined) clearInterval(beating)
      unsubscribe?.()
      wake()
      await loop
      await store.removeNode(node.id).catch(() => undefined)
    },
  }
}
