import type { ExecutionRecord, Store } from '../store/store.js'
import type { Logger } from '../tasks/define-task.js'
import type { Clock } from './engine.js'
import { isDeadLocalOwner } from './node-id.js'
import type { Runner } from './runner.js'

export interface WorkerDeps {
  readonly store: Store
  readonly clock: Clock
  readonly logger: Logger
  readonly nodeId: string
  readonly leaseMs: number
  readonly maxConcurrent: number
  readonly pollMs: number
  readonly runner: Runner
  /** Starts or resumes an execution this node just claimed. */
  readonly adopt: (record: ExecutionRecord) => Promise<void>
}

export interface Worker {
  /**
   * Begins claiming work: recovery of dead owners' executions, expired leases, the queue. With
   * `keepAlive`, its polling keeps the process running (serve and worker want that; an engine that
   * only queued some of its own executions does not).
   */
  start(keepAlive?: boolean): void
  /** This node queued an execution (over its limit) or wants one claimed: look at once. */
  queuedHere(): void
  /** Stops claiming and heartbeating; running executions are the runner's to drain. */
  stop(): Promise<void>
}

/**
 * Takes work from the store while slots are free, and keeps this node's leases alive. A
 * heartbeat also carries cancellations requested on other nodes.
 */
export function createWorker(deps: WorkerDeps): Worker {
  const { store, clock, logger, nodeId, leaseMs, maxConcurrent, pollMs, runner } = deps
  let started = false
  let stopped = false
  let adopting = 0
  let hint = 0
  let saturated = false
  let keepAlive = false
  let wakeUp: (() => void) | undefined
  let loop: Promise<void> | undefined
  let unsubscribe: (() => void) | undefined

  const wake = (): void => {
    const resolve = wakeUp
    wakeUp = undefined
    resolve?.()
  }
  const idle = (): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, pollMs)
      // Only a worker started on purpose (serve, worker) keeps the process alive while idle.
      if (!keepAlive) timer.unref()
      wakeUp = () => {
        clearTimeout(timer)
        resolve()
      }
    })

  const claimOnce = async (): Promise<boolean> => {
    const free = maxConcurrent - runner.live.size - adopting
    if (free <= 0) return false
    const owners = await store.listLeaseOwners()
    const deadOwners = owners.filter((owner) => owner !== nodeId && isDeadLocalOwner(owner))
    const claimed = await store.claim({ owner: nodeId, limit: free, now: clock.now(), leaseMs, deadOwners })
    hint = Math.max(0, hint - claimed.length)
    // Every slot was filled: there may be more work, so look again as soon as one frees.
    saturated = claimed.length >= free
    for (const record of claimed) {
      adopting++
      deps
        .adopt(record)
        .catch((error: unknown) => logger.error({ err: error, executionId: record.id }, 'could not take over a claimed execution'))
        .finally(() => {
          adopting--
        })
    }
    return claimed.length > 0 && claimed.length >= free
  }

  const run = async (): Promise<void> => {
    while (!stopped) {
      let more = false
      try {
        more = await claimOnce()
      } catch (error) {
        logger.warn({ err: error }, 'claiming work failed; retrying at the next poll')
      }
      if (!more && !stopped) await idle()
    }
  }

  const heartbeat = async (): Promise<void> => {
    if (runner.live.size === 0) return
    const { cancelRequested } = await store.heartbeat(nodeId, clock.now(), leaseMs)
    for (const id of cancelRequested) {
      const l = runner.live.get(id)
      if (l !== undefined && !l.controller.signal.aborted) runner.cancel(l, 'cancelled on request from another node')
    }
  }
  // Leases are renewed whether or not this node claims work: a long task must not lose its execution.
  const beat = setInterval(() => {
    heartbeat().catch((error: unknown) => logger.warn({ err: error }, 'heartbeat failed'))
  }, Math.max(10, Math.floor(leaseMs / 3)))
  beat.unref()

  runner.onSlotFreed(() => {
    if (started && (hint > 0 || saturated)) {
      saturated = false
      wake()
    }
  })

  return {
    start(alive = true) {
      keepAlive ||= alive
      if (started || stopped) return
      started = true
      unsubscribe = store.subscribeWork?.(() => {
        hint++
        wake()
      })
      loop = run()
    },
    queuedHere() {
      hint++
      if (!started) this.start(false)
      else wake()
    },
    async stop() {
      stopped = true
      clearInterval(beat)
      unsubscribe?.()
      wake()
      await loop
    },
  }
}
