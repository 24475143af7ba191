import { FlowManagerError } from '../core/errors.js'
import { isTerminal, type ExecutionStatus } from '../core/execution-state.js'
import type { ExecutionDetail, ReadLimits, Store } from '../store/store.js'
import type { Clock, TimerHandle, Timers } from './timers.js'

/** The bounds of an execution read for whoever waits for its end. */
export const END_READ: ReadLimits = { maxRuns: 1000, maxDataBytes: 8 * 1024 * 1024 }
/** How many ended executions are remembered for waiters that come late. */
const RECENT = 512
/** Most ids in one status query (the store's list takes 500 at most). */
const STATUS_BATCH = 500

/**
 * Whoever waits for executions to end. An execution that ends here answers its waiters at once;
 * one that runs elsewhere (or is parked) is read from the store at growing intervals, and a
 * waiter is woken early whenever something happens to that execution on this node. Closing the
 * engine ends every wait.
 */
export class Waiters {
  readonly #ended = new Map<string, ((detail: ExecutionDetail) => void)[]>()
  readonly #nudges = new Map<string, Set<() => void>>()
  /** Executions that just ended here, small ones only: whoever asks right after gets the end without a read. */
  readonly #recent = new Map<string, { readonly detail: ExecutionDetail; readonly at: number }>()
  /** Waits asking for a status in this turn of the event loop: one query answers them all. */
  #asking: { readonly id: string; readonly resolve: (status: ExecutionStatus | undefined) => void; readonly reject: (error: unknown) => void }[] = []
  #closed = false

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly timers: Timers,
    /** True while the execution runs on this node: its end comes here, so the store need not be read. */
    private readonly isLocal: (id: string) => boolean,
  ) {}

  /** The execution ended on this node; `small` ones are kept a while for late waiters. */
  ended(id: string, detail: ExecutionDetail, small: boolean): void {
    const waiting = this.#ended.get(id)
    if (waiting !== undefined) {
      for (const resolve of waiting) resolve(detail)
      this.#ended.delete(id)
      this.nudge(id)
    }
    if (!small) return
    if (this.#recent.size >= RECENT) this.#recent.delete(this.#recent.keys().next().value as string)
    this.#recent.set(id, { detail, at: this.clock.monotonic() })
  }

  /** The execution runs again (a resume): what was remembered of its end is no longer true. */
  forget(id: string): void {
    this.#recent.delete(id)
  }

  /** An execution that just ended here, if it is still remembered. */
  recent(id: string, maxAgeMs = Infinity): ExecutionDetail | undefined {
    const entry = this.#recent.get(id)
    if (entry === undefined || this.clock.monotonic() - entry.at > maxAgeMs) return undefined
    return entry.detail
  }

  /** Something happened to the execution here (it stopped running, it was queued): look again now. */
  nudge(id: string): void {
    for (const wake of this.#nudges.get(id) ?? []) wake()
  }

  close(): void {
    this.#closed = true
    for (const wakes of this.#nudges.values()) for (const wake of wakes) wake()
  }

  async wait(id: string, signal?: AbortSignal): Promise<ExecutionDetail> {
    const recent = this.#recent.get(id)
    if (recent !== undefined) return recent.detail
    let ended: ExecutionDetail | undefined
    const onEnd = (detail: ExecutionDetail): void => {
      ended = detail
    }
    const list = this.#ended.get(id) ?? []
    list.push(onEnd)
    this.#ended.set(id, list)
    try {
      for (let delay = 20; ; delay = Math.min(delay * 2, 1000)) {
        if (ended !== undefined) return ended
        if (this.#closed) throw new FlowManagerError('SHUTTING_DOWN', 'the engine is shutting down; the execution goes on and can be read later')
        signal?.throwIfAborted()
        if (this.isLocal(id)) {
          await this.#sleep(id, 60_000, signal)
          continue
        }
        // Only an execution that has ended is read whole; the others cost a share of one status query.
        const status = await this.#statusOf(id)
        if (ended !== undefined) return ended
        if (status === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${id}"`)
        if (isTerminal(status)) {
          const detail = await this.store.getExecution(id, END_READ)
          if (ended !== undefined) return ended
          if (detail !== undefined && isTerminal(detail.execution.status)) return detail
        }
        await this.#sleep(id, delay, signal)
      }
    } finally {
      const remaining = (this.#ended.get(id) ?? []).filter((r) => r !== onEnd)
      if (remaining.length === 0) this.#ended.delete(id)
      else this.#ended.set(id, remaining)
    }
  }

  /**
   * The status of an execution that runs elsewhere or is parked. The waits that ask in one turn of
   * the event loop share one query (up to 500 ids each), so that 10,000 clients waiting for parked
   * executions cost a few queries a second, not 10,000 reads.
   */
  #statusOf(id: string): Promise<ExecutionStatus | undefined> {
    return new Promise((resolve, reject) => {
      this.#asking.push({ id, resolve, reject })
      if (this.#asking.length === 1) setImmediate(() => void this.#askStatuses())
    })
  }

  async #askStatuses(): Promise<void> {
    const asking = this.#asking.splice(0)
    for (let i = 0; i < asking.length; i += STATUS_BATCH) {
      const batch = asking.slice(i, i + STATUS_BATCH)
      const ids = [...new Set(batch.map((a) => a.id))]
      try {
        const statuses = await this.store.statuses(ids)
        for (const a of batch) a.resolve(statuses.get(a.id))
      } catch (error) {
        for (const a of batch) a.reject(error)
      }
    }
  }

  #sleep(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer: { handle?: TimerHandle } = {}
      const wakes = this.#nudges.get(id) ?? new Set<() => void>()
      const done = (): void => {
        timer.handle?.cancel()
        wakes.delete(done)
        if (wakes.size === 0) this.#nudges.delete(id)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      wakes.add(done)
      this.#nudges.set(id, wakes)
      signal?.addEventListener('abort', done, { once: true })
      timer.handle = this.timers.at(this.clock.now() + ms, done)
    })
  }
}
