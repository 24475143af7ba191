import { FlowManagerError } from '../../core/errors.js'
import type { StepWrite } from '../store.js'

/**
 * Whether writes fail, as the commits tell: from a failed commit until one succeeds, but no longer
 * than `memoryMs` after the latest failure, so that a node nothing writes to (traffic sent
 * elsewhere because it said it was not ready) is tried again rather than left out for ever.
 */
export function writeHealth(memoryMs = 10_000): { readonly onResult: (ok: boolean) => void; readonly failing: () => boolean } {
  let failedAt: number | null = null
  return {
    onResult: (ok) => {
      failedAt = ok ? null : Date.now()
    },
    failing: () => failedAt !== null && Date.now() - failedAt < memoryMs,
  }
}

/** How one step of a batch came out: applied, or the error its writer gets. */
export type StepOutcome = true | Error

export interface GroupCommitOptions {
  /** Commits a batch atomically and says how each step came out; throws when the batch as a whole failed. */
  readonly commit: (steps: readonly StepWrite[]) => readonly StepOutcome[] | Promise<readonly StepOutcome[]>
  /** Most steps in one commit. */
  readonly maxBatch: number
  /** Batches committing at once (more than one lets the database overlap their flushes). */
  readonly maxInFlight: number
  /** Whether a failed batch should be retried step by step (the statement failed, not the connection). */
  readonly retryOneByOne: (error: unknown) => boolean
  /** Called after each batch; a store uses it to say whether writes work (for /ready). */
  readonly onResult?: (ok: boolean, error?: unknown) => void
}

interface Pending {
  readonly step: StepWrite
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

/**
 * Group commit: steps written during one turn of the event loop are committed together, and each
 * writer is answered only after that commit, so nothing is acknowledged before it is durable yet
 * one commit (one fsync, one round trip) serves many executions. A batch holds at most one step
 * per execution row (a later one waits for the next batch), so its statements never write one
 * row twice. Both SQL stores use it.
 */
export class GroupCommit {
  #queue: Pending[] = []
  #inFlight = 0
  #scheduled = false
  #closed = false
  readonly #idle: (() => void)[] = []

  constructor(private readonly options: GroupCommitOptions) {}

  write(step: StepWrite): Promise<void> {
    if (this.#closed) return Promise.reject(new FlowManagerError('STORE_UNAVAILABLE', 'the store is closed'))
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ step, resolve, reject })
      this.#schedule()
    })
  }

  /** Stops taking writes; resolves once everything queued is committed (or has failed). */
  async close(): Promise<void> {
    this.#closed = true
    await this.drained()
  }

  drained(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => {
      this.#idle.push(resolve)
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.options.maxInFlight) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      this.#flush()
    })
  }

  #take(): Pending[] {
    const ids = new Set<string>()
    const batch: Pending[] = []
    const rest: Pending[] = []
    for (const pending of this.#queue) {
      const touched = touches(pending.step)
      if (batch.length < this.options.maxBatch && !touched.some((id) => ids.has(id))) {
        for (const id of touched) ids.add(id)
        batch.push(pending)
      } else rest.push(pending)
    }
    this.#queue = rest
    return batch
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.options.maxInFlight) {
      const batch = this.#take()
      this.#inFlight++
      void this.#commit(batch).finally(() => {
        this.#inFlight--
        if (this.#queue.length > 0) this.#schedule()
        else if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve()
      })
    }
  }

  async #commit(batch: readonly Pending[]): Promise<void> {
    let outcomes: readonly StepOutcome[]
    try {
      outcomes = await this.options.commit(batch.map((p) => p.step))
    } catch (error) {
      if (batch.length === 1 || !this.options.retryOneByOne(error)) {
        this.options.onResult?.(false, error)
        for (const pending of batch) pending.reject(error)
        return
      }
      // One bad step must not fail the others: each is tried on its own.
      await Promise.all(batch.map((pending) => this.#commit([pending])))
      return
    }
    this.options.onResult?.(true)
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]
      if (outcome === true) pending.resolve()
      else pending.reject(outcome ?? new Error('the store gave no outcome for a step'))
    })
  }
}

/** Every execution row a step writes: its own, a parent it wakes, children it creates or cancels. */
function touches(step: StepWrite): string[] {
  if (step.wakeParent === undefined && step.cancelChildren === undefined && step.children === undefined) return [step.executionId]
  return [step.executionId, ...(step.wakeParent === undefined ? [] : [step.wakeParent]), ...(step.cancelChildren ?? []), ...(step.children ?? []).map((c) => c.id)]
}
