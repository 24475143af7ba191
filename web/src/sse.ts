import { authHeaders, executionPath, keyNeeded, type ExecutionSummary } from './api.js'
import { reachingFetch } from './connection.js'

/**
 * An event of GET /api/v1/executions/{id}/events: `{type, execution_id, event_seq, at, task_name,
 * ...data}`. Types include execution_queued, execution_started, task_started {seq, attempt,
 * parent_seq?, branch?, item?, item_count?}, task_waiting {seq, waiting_for}, task_finished {seq,
 * attempt, status, duration_ms, error, next_task, retry_at?}, routed {to}, task_interrupted {seq},
 * execution_resumed, cancel_requested and execution_finished {status, error}; unknown types are
 * shown as they come.
 */
export interface WireEvent {
  readonly type: string
  readonly execution_id: string
  readonly at: string
  readonly task_name: string | null
  readonly [field: string]: unknown
}

export interface IdentifiedEvent {
  readonly id: number
  readonly event: WireEvent
}

interface Message {
  readonly event: string | undefined
  readonly data: string
}

/**
 * Follows a server-sent event stream until `onMessage` answers 'stop', the server refuses it, or
 * `signal` aborts. EventSource cannot send an Authorization header, so the stream is read with
 * fetch; a dropped connection is resumed with Last-Event-ID (an `id:` line on its own counts), so
 * every message arrives once, and an unreachable server is waited for (see connection.ts).
 */
async function followStream(path: string, onMessage: (message: Message) => 'stop' | undefined, signal: AbortSignal, ended: () => boolean = () => false): Promise<void> {
  let lastId: string | undefined
  let retryMs = 2000
  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() }
      if (lastId !== undefined) headers['last-event-id'] = lastId
      const response = await reachingFetch(path, { headers, signal }, { retry: true })
      if (response.status === 401) {
        await keyNeeded('This server needs an API key.')
        continue
      }
      if (!response.ok || response.body === null) return
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) {
          if (ended()) return
          break
        }
        buffer += value
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = parseBlock(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
          if (block.retry !== undefined) retryMs = block.retry
          if (block.id !== undefined) lastId = block.id
          if (block.data !== undefined && onMessage({ event: block.event, data: block.data }) === 'stop') return
        }
      }
      // The server closed the stream without our asking: reconnect after its retry delay.
    } catch (error) {
      if (signal.aborted) return
      void error
    }
    if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, retryMs))
  }
}

function parseBlock(block: string): { id?: string; event?: string; data?: string; retry?: number } {
  const out: { id?: string; event?: string; data?: string; retry?: number } = {}
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'id') out.id = value
    else if (field === 'event') out.event = value
    else if (field === 'data') out.data = out.data === undefined ? value : `${out.data}\n${value}`
    else if (field === 'retry' && /^\d+$/.test(value)) out.retry = Number(value)
  }
  return out
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T
  } catch {
    return undefined
  }
}

/**
 * Follows an execution's event stream until the server closes it after the execution's end, or until
 * `signal` aborts. A resumed execution's history goes on past its first execution_finished: the
 * server replays it whole and closes the stream only at the last one.
 */
export function followExecution(id: string, onEvent: (event: IdentifiedEvent) => void, signal: AbortSignal): Promise<void> {
  let last: string | undefined
  return followStream(
    `${executionPath(id)}/events`,
    (message) => {
      const event = parseJson<WireEvent & { event_seq?: number }>(message.data)
      if (event === undefined || typeof event.event_seq !== 'number') return undefined
      last = event.type
      onEvent({ id: event.event_seq, event })
      return undefined
    },
    signal,
    () => last === 'execution_finished',
  )
}

/** An execution's summary as GET /api/v1/events tells it: no input, and the position in its log. */
export interface ExecutionChange extends Omit<ExecutionSummary, 'input'> {
  readonly type: 'execution_created' | 'execution_updated' | 'execution_finished'
  readonly event_seq: number
}

/**
 * Follows GET /api/v1/events, the status changes of every execution, until `signal` aborts; with
 * `since` (ISO), the executions changed since then come first. `onReset` is called when more
 * changed than the stream tells one by one: read the list again.
 */
export function followExecutions(handlers: { onChange: (change: ExecutionChange) => void; onReset: () => void }, signal: AbortSignal, since?: string): Promise<void> {
  return followStream(
    `/api/v1/events${since === undefined ? '' : `?since=${encodeURIComponent(since)}`}`,
    (message) => {
      if (message.event === 'reset') handlers.onReset()
      const change = parseJson<ExecutionChange>(message.data)
      if (change !== undefined && typeof change.execution_id === 'string' && change.type.startsWith('execution_')) handlers.onChange(change)
      return undefined
    },
    signal,
  )
}
