import type { Command, FanoutView, StepScope } from './commands.js'
import type { ResultView } from './expression.js'

/** An open task run, as far as expressions care: whose result it will be. */
export interface OpenRun {
  readonly task: string
  /** Set for an item run of a for_each task: its index and its for_each's run. */
  readonly item: number | null
  readonly parentSeq: number | null
}

interface Fanout extends FanoutView {
  readonly data: unknown[]
  bytes: number
}

/**
 * What an execution's expressions read, kept between decisions: the input, each task's latest
 * result, and the items and item data of open for_each tasks. The engine and the simulation both
 * feed it the same way: a run's own result before the core decides on it, and the results the
 * core decided (joins, timeouts, cancellations) from its commands afterwards.
 */
export class ScopeKeeper {
  readonly results: Record<string, ResultView> = Object.create(null) as Record<string, ResultView>
  readonly sizes = new Map<string, number>()
  readonly fanouts = new Map<number, Fanout>()
  readonly open = new Map<number, OpenRun>()
  #scope: StepScope

  constructor(input: unknown) {
    this.#scope = { input, results: this.results, fanouts: this.fanouts, sizes: this.sizes }
  }

  get input(): unknown {
    return this.#scope.input
  }

  /** The scope handed to the core: one object, reused while the input stays the same. */
  scope(): StepScope {
    return this.#scope
  }

  setInput(input: unknown): void {
    this.#scope = { input, results: this.results, fanouts: this.fanouts, sizes: this.sizes }
  }

  /**
   * Puts the result of run `seq` where the core will read it; false when the run is not open
   * (the core closed it already: its late result is not looked at).
   */
  beforeFinish(seq: number, view: ResultView, bytes: number): boolean {
    const run = this.open.get(seq)
    if (run === undefined) return false
    if (run.item === null) {
      this.results[run.task] = view
      this.sizes.set(run.task, bytes)
    } else if (view.status === 'success' && run.parentSeq !== null) {
      const fanout = this.fanouts.get(run.parentSeq)
      if (fanout !== undefined) {
        fanout.data[run.item] = view.data
        fanout.bytes += bytes
      }
    }
    return true
  }

  /** Learns the runs a decision started and applies the results it decided. */
  afterDecision(commands: readonly Command[]): void {
    for (const c of commands) {
      if (c.type === 'start_run') {
        this.open.set(c.seq, { task: c.task.name, item: c.item, parentSeq: c.parentSeq })
        if (c.items !== undefined) this.fanouts.set(c.seq, { items: c.items, data: [], bytes: 0 })
      } else if (c.type === 'finish_run') {
        this.open.delete(c.seq)
        this.fanouts.delete(c.seq)
        if (c.item) continue
        if (c.data.from === 'value') {
          this.results[c.task] = c.data.view
          this.sizes.set(c.task, c.data.bytes)
        } else if (c.data.from === 'none') {
          this.results[c.task] = { status: c.status, data: null, error: c.error?.message ?? null }
          this.sizes.set(c.task, 0)
        }
      } else if (c.type === 'interrupt_run') {
        this.open.delete(c.seq)
      }
    }
  }

  /** Restores a for_each's items and the data of its finished items, e.g. after a crash. */
  restoreFanout(seq: number, items: readonly unknown[], finished: readonly { readonly item: number; readonly data: unknown; readonly bytes: number }[]): void {
    const fanout: Fanout = { items, data: [], bytes: 0 }
    for (const f of finished) {
      fanout.data[f.item] = f.data
      fanout.bytes += f.bytes
    }
    this.fanouts.set(seq, fanout)
  }
}
