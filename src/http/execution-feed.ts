import type { FastifyBaseLogger } from 'fastify'
import type { Engine } from '../engine/engine.js'
import { toExecutionSummary } from '../engine/execution-view.js'
import type { EventType, ExecutionFilter, ExecutionRecord } from '../store/store.js'

/**
 * How far back each look at the store reaches before the previous one: the largest clock
 * difference between nodes, plus commit lag, that the list stream tolerates without missing a change.
 */
export const FEED_SKEW_MS = 2000
/** Executions read per query; a poll pages on while pages are full. */
const PAGE = 500
/** Most changes a reconnect replays; beyond, the client is told to read its list again. */
export const REPLAY_MAX = 2000
/** Most changes one poll reads; beyond (a burst no list keeps up with), clients are told to read their lists again. */
const POLL_MAX = 20_000
/** Log events after which an execution's status may differ. */
const STATUS_EVENTS: ReadonlySet<EventType> = new Set(['execution_queued', 'execution_started', 'execution_resumed', 'execution_finished'])

/** `reset`: more changed than the stream can tell one by one; read the list again. */
export type FeedEventType = 'execution_created' | 'execution_updated' | 'execution_finished' | 'reset'

/** One execution change on the wire: the summary fields (without the input), and its log position. */
export interface FeedEvent {
  readonly type: FeedEventType
  /**
   * The stream position: every change made at or after it (epoch ms, store time) is either in this
   * event, in a later one, or still to come. Sent as the SSE id, so that Last-Event-ID resumes.
   */
  readonly position: number
  /** The execution it is about (null for `reset`) and its log position, to order two reads of it. */
  readonly executionId: string | null
  readonly eventSeq: number
  readonly data: Record<string, unknown>
}

export type FeedListener = (event: FeedEvent) => void

export interface ExecutionFeed {
  /** Starts following (the first listener starts the poll); returns the function that stops. */
  subscribe(listener: FeedListener): () => void
  /** The position a new listener starts from: changes at or after it will reach it. */
  position(): number
  /**
   * The current summary of every execution changed at or after `since`, oldest first, or
   * `undefined` when more than REPLAY_MAX changed (the client should read its list again).
   */
  replay(since: number): Promise<FeedEvent[] | undefined>
  /** Looks for changes now, as the timer does every `pollMs` while anyone listens. */
  poll(): Promise<void>
  close(): void
}

const isTerminal = (e: ExecutionRecord): boolean => e.status === 'completed' || e.status === 'failed' || e.status === 'cancelled'

/** What a list stream says about an execution. `input` is left out: lists do not show it, and it may be large. */
export function feedEvent(type: Exclude<FeedEventType, 'reset'>, position: number, execution: ExecutionRecord): FeedEvent {
  const { input: _input, ...summary } = toExecutionSummary(execution)
  return { type, position, executionId: execution.id, eventSeq: execution.eventSeq, data: { type, ...summary, event_seq: execution.eventSeq } }
}

/** Reads every execution matching `filter`, page after page, up to `max` (undefined when there are more). */
async function readAll(engine: Engine, filter: Omit<ExecutionFilter, 'limit' | 'cursor'>, max: number): Promise<ExecutionRecord[] | undefined> {
  const out: ExecutionRecord[] = []
  let cursor: string | undefined
  for (;;) {
    const page = await engine.store.listExecutions({ ...filter, limit: PAGE, ...(cursor === undefined ? {} : { cursor }) })
    out.push(...page.items)
    if (out.length > max) return undefined
    if (page.nextCursor === null) return out
    cursor = page.nextCursor
  }
}

/**
 * One per server: the changes of executions' statuses, for every list stream it serves. Changes
 * this node's engine makes are read at once (by id); changes other nodes make are found by one
 * poll of the store every `pollMs`, whatever the number of clients, and only while there are any.
 */
export function createExecutionFeed(options: { engine: Engine; pollMs: number; log: FastifyBaseLogger; now?: () => number }): ExecutionFeed {
  const { engine, pollMs, log } = options
  const now = options.now ?? Date.now
  const listeners = new Set<FeedListener>()
  /** What was last said about each execution, so that a change is said once. */
  const said = new Map<string, { status: string; eventSeq: number; seenAt: number }>()
  const tell = (event: FeedEvent): void => {
    for (const listener of listeners) listener(event)
  }
  let watermark = now() - FEED_SKEW_MS
  let timer: NodeJS.Timeout | undefined
  let unsubscribe: (() => void) | undefined
  let polling = false
  const dirty = new Set<string>()
  let reading: Promise<void> | undefined

  const announce = (records: readonly ExecutionRecord[], createdSince: number): void => {
    const at = now()
    // Oldest first, so that a client prepending new rows ends with the newest on top.
    for (const record of [...records].reverse()) {
      const before = said.get(record.id)
      if (before !== undefined) {
        before.seenAt = at
        // An older read than one already told (two reads of one execution crossed).
        if (record.eventSeq <= before.eventSeq) continue
      }
      said.set(record.id, { status: record.status, eventSeq: record.eventSeq, seenAt: at })
      if (before !== undefined && before.status === record.status) continue
      tell(feedEvent(isTerminal(record) ? 'execution_finished' : before === undefined && record.createdAt >= createdSince ? 'execution_created' : 'execution_updated', watermark, record))
    }
  }

  const poll = async (): Promise<void> => {
    if (polling) return
    polling = true
    const started = now()
    const since = watermark
    try {
      const records = await readAll(engine, { changedSince: since }, POLL_MAX)
      if (records === undefined) {
        watermark = Math.max(watermark, started - FEED_SKEW_MS)
        tell({ type: 'reset', position: watermark, executionId: null, eventSeq: 0, data: { type: 'reset', reason: `more than ${POLL_MAX} executions changed within ${pollMs + FEED_SKEW_MS} ms` } })
        said.clear()
        return
      }
      announce(records, since)
      watermark = Math.max(watermark, started - FEED_SKEW_MS)
      // A finished execution this poll did not see has left the window and will not be read again
      // unless it changes (a resume, told then as an update). Unfinished ones are kept, so that
      // their next step, which does not change their status, is not told as news.
      for (const [id, entry] of said) if (entry.seenAt < started && entry.status !== 'pending' && entry.status !== 'running') said.delete(id)
    } catch (error) {
      log.warn({ err: error }, 'list event stream: could not read the executions that changed')
    } finally {
      polling = false
    }
  }

  /** Reads the executions this engine just changed, in batches, one read at a time. */
  const readDirty = (): void => {
    if (reading !== undefined || dirty.size === 0) return
    const ids = [...dirty].slice(0, PAGE)
    for (const id of ids) dirty.delete(id)
    const since = watermark
    reading = engine.store
      .listExecutions({ ids, limit: ids.length })
      .then((page) => announce(page.items, since))
      .catch((error: unknown) => log.warn({ err: error }, 'list event stream: could not read executions'))
      .finally(() => {
        reading = undefined
        readDirty()
      })
  }

  const start = (): void => {
    watermark = Math.max(watermark, now() - FEED_SKEW_MS)
    unsubscribe = engine.subscribe((notice) => {
      if (notice.type !== 'logged' || !notice.events.some((e) => STATUS_EVENTS.has(e.type))) return
      dirty.add(notice.executionId)
      // After the write's other listeners: the read sees the committed row.
      if (dirty.size === 1) setImmediate(readDirty)
    })
    timer = setInterval(() => void poll(), pollMs)
    timer.unref()
  }
  const stop = (): void => {
    clearInterval(timer)
    timer = undefined
    unsubscribe?.()
    unsubscribe = undefined
    dirty.clear()
    said.clear()
  }

  return {
    subscribe(listener) {
      listeners.add(listener)
      if (listeners.size === 1) start()
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0) stop()
      }
    },
    position: () => watermark,
    async replay(since) {
      const position = watermark
      const records = await readAll(engine, { changedSince: since }, REPLAY_MAX)
      if (records === undefined) return undefined
      return records.reverse().map((record) => feedEvent(isTerminal(record) ? 'execution_finished' : record.createdAt >= since ? 'execution_created' : 'execution_updated', position, record))
    },
    poll,
    close() {
      listeners.clear()
      stop()
    },
  }
}
