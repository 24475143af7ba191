import { isTerminal } from '../../core/execution-state.js'
import type { ExecutionDetail, ReadLimits } from '../store.js'

/** Most finished executions remembered, and most bytes of text (run data, input, state) in one of them. */
const MAX_ENTRIES = 512
const MAX_DATA_BYTES = 64 * 1024
/**
 * How often SQLite is asked whether another process wrote to the file. Reading `data_version`
 * starts a read transaction, which under load costs more than the rest of an answer from memory.
 */
const VERSION_CHECK_MS = 100

interface Entry {
  readonly detail: ExecutionDetail
  readonly maxRuns: number
  readonly maxDataBytes: number
}

/**
 * Finished executions as last read, so that clients polling for a result (the commonest read) cost
 * no query. A finished execution changes only when it is resumed, which is a step written through
 * this store (it forgets the execution when the step is handed in and again once it is committed),
 * or a write by another process sharing the file, which SQLite's `data_version` reveals (then
 * everything is forgotten; it is looked at every 100 ms, so a resume by another process shows
 * within that time). Only small executions are kept, so the memory is bounded.
 */
export class FinishedReads {
  readonly #entries = new Map<string, Entry>()
  readonly #dataVersion: () => number
  readonly #now: () => number
  #version: number
  #checkedAt: number

  constructor(dataVersion: () => number, now: () => number = () => performance.now()) {
    this.#dataVersion = dataVersion
    this.#now = now
    this.#version = dataVersion()
    this.#checkedAt = now()
  }

  get(id: string, limits: ReadLimits): ExecutionDetail | undefined {
    if (this.#entries.size === 0) return undefined
    const now = this.#now()
    if (now - this.#checkedAt >= VERSION_CHECK_MS) {
      this.#checkedAt = now
      const version = this.#dataVersion()
      if (version !== this.#version) {
        this.#entries.clear()
        this.#version = version
        return undefined
      }
    }
    const entry = this.#entries.get(id)
    if (entry === undefined || entry.maxRuns !== limits.maxRuns || entry.maxDataBytes !== limits.maxDataBytes) return undefined
    return entry.detail
  }

  /** Remembers what was just read, if it is finished and small (`bytes`: the text it was read from). */
  put(id: string, limits: ReadLimits, detail: ExecutionDetail, bytes: number): void {
    if (!isTerminal(detail.execution.status) || bytes > MAX_DATA_BYTES) return
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string)
    this.#entries.set(id, { detail, maxRuns: limits.maxRuns, maxDataBytes: limits.maxDataBytes })
  }

  forget(id: string | undefined): void {
    if (id !== undefined) this.#entries.delete(id)
  }
}
