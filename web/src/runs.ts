import type { ExecutionStatus, FlowTask, TaskRunView } from './api.js'
import { maxAttemptsOf, parkedWait, type Wait } from './waits.js'

/**
 * Every task run of an execution that the page knows, by `seq`, and what the event log told about
 * them beyond the runs themselves: how many items each for_each run has.
 */
export interface RunIndex {
  /** In seq order. */
  readonly runs: readonly TaskRunView[]
  readonly bySeq: ReadonlyMap<number, TaskRunView>
  /** A for_each run's seq → its number of items (the task_started event's item_count). */
  readonly itemCounts: ReadonlyMap<number, number>
  /** True when the execution has more runs than these (older ones still loading). */
  readonly partial: boolean
}

export const EMPTY_RUNS: RunIndex = { runs: [], bySeq: new Map(), itemCounts: new Map(), partial: false }

export const isEnded = (status: ExecutionStatus): boolean => status === 'completed' || status === 'failed' || status === 'cancelled'

/** A run still going on: running, or parked. */
export const isOpen = (run: TaskRunView | undefined): boolean => run?.status === 'running' || run?.status === 'waiting'

/**
 * Whether a failed attempt will still be tried again: it has a `retry_at`, the execution goes on,
 * and the group or for_each run it belongs to has not ended meanwhile (a failed group cancels its
 * branches' retries). A later attempt of the same task, when there is one, settles it too.
 */
export function retryPending(run: TaskRunView, index: RunIndex, ended: boolean, later?: TaskRunView): boolean {
  if (run.status !== 'failure' || run.retry_at === null || ended) return false
  if (later !== undefined && later.attempt > run.attempt) return false
  if (run.parent_seq === null) return true
  const parent = index.bySeq.get(run.parent_seq)
  return parent === undefined || isOpen(parent)
}

/** What a run waits for now: a planned retry, or what it is parked on. */
export function waitOf(run: TaskRunView, task: FlowTask | undefined, index: RunIndex, ended: boolean, later?: TaskRunView): Wait | undefined {
  if (retryPending(run, index, ended, later)) return { kind: 'retry', at: run.retry_at ?? '', attempt: run.attempt + 1, maxAttempts: maxAttemptsOf(task) }
  return run.status === 'waiting' ? parkedWait(run) : undefined
}

/** How far a for_each run's items are, counting each item's latest attempt. */
export interface ItemProgress {
  /** Unknown while the run goes on and the event log has not told it. */
  readonly total: number | undefined
  readonly succeeded: number
  readonly failed: number
  readonly running: number
  readonly retrying: number
  readonly waiting: number
}

export function itemProgress(parent: TaskRunView, items: readonly TaskRunView[], index: RunIndex, ended: boolean): ItemProgress {
  const latest = new Map<number, TaskRunView>()
  for (const run of items) if (run.item_index !== null) latest.set(run.item_index, run)
  let succeeded = 0
  let failed = 0
  let running = 0
  let retrying = 0
  let waiting = 0
  for (const run of latest.values()) {
    if (run.status === 'success') succeeded++
    else if (run.status === 'running') running++
    else if (run.status === 'waiting') waiting++
    else if (retryPending(run, index, ended)) retrying++
    else failed++
  }
  const told = index.itemCounts.get(parent.seq)
  const total = told ?? (parent.status === 'success' && Array.isArray(parent.data) ? parent.data.length : undefined)
  return { total, succeeded, failed, running, retrying, waiting }
}

/** "3/10 items · 1 failed · 2 running". */
export function itemsText(p: ItemProgress): string {
  const done = p.succeeded + p.failed
  const parts = [p.total === undefined ? `${done} item${done === 1 ? '' : 's'} done` : `${done}/${p.total} items`]
  if (p.failed > 0) parts.push(`${p.failed} failed`)
  if (p.running > 0) parts.push(`${p.running} running`)
  if (p.retrying > 0) parts.push(`${p.retrying} retrying`)
  if (p.waiting > 0) parts.push(`${p.waiting} waiting`)
  return parts.join(' · ')
}
