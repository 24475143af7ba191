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
  /**
   * Whether the database refused a statement (a constraint, bad data), rather than failing to
   * write at all (a lost connection, a full disk): a failed batch is then retried step by step,
   * so that one bad step fails alone, and a step refused on its own does not mean that writes fail.
   */
  readonly retryOneByOne: (error: unknown) => boolean
  /** Called when a commit succeeds (true) or the database could not write (false); a store says so on /ready. */
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
 * row twice, and no two batches in flight touch one row. Both SQL stores use it.
 */
export class GroupCommit {
  #queue: Pending[] = []
  #inFlight = 0
  #scheduled = false
  #closed = false
  /** Rows touched by the batches in flight. */
  readonly #busy = new Set<string>()
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

  /** The next batch and the rows it touches. */
  #take(): { batch: Pending[]; rows: string[] } {
    // Rows of a batch in flight, or of a step taken or left waiting: a later step touching one of
    // them waits, so that the steps touching one row commit one after the other, in the order
    // written, and two batches in flight never lock rows in opposite orders.
    const ids = new Set(this.#busy)
    const batch: Pending[] = []
    const rows: string[] = []
    const rest: Pending[] = []
    for (const pending of this.#queue) {
      if (batch.length >= this.options.maxBatch) {
        rest.push(pending)
        continue
      }
      const touched = touches(pending.step)
      if (touched.some((id) => ids.has(id))) rest.push(pending)
      else {
        batch.push(pending)
        rows.push(...touched)
      }
      for (const id of touched) ids.add(id)
    }
    this.#queue = rest
    return { batch, rows }
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.options.maxInFlight) {
      const { batch, rows } = this.#take()
      // Everything waiting touches a row in flight: the end of that batch flushes again.
      if (batch.length === 0) return
      this.#inFlight++
      for (const id of rows) this.#busy.add(id)
      void this.#commit(batch).finally(() => {
        this.#inFlight--
        for (const id of rows) this.#busy.delete(id)
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
      const refused = this.options.retryOneByOne(error)
      if (batch.length === 1 || !refused) {
        if (!refused) this.options.onResult?.(false, error)
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
