import { authHeaders, executionPath, keyNeeded } from './api.js'

/**
 * An event of GET /api/v1/executions/{id}/events: `{type, execution_id, event_seq, at, task_name,
 * ...data}`. Types include execution_queued, execution_started, task_started {attempt},
 * task_finished {status, duration_ms, error, next_task}, routed {to, condition}, task_interrupted,
 * execution_resumed, cancel_requested and execution_finished {status, error}; unknown types are shown as they come.
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

/**
 * Follows an execution's event stream until it ends or `signal` aborts. EventSource cannot send an
 * Authorization header, so the stream is read with fetch; a dropped connection is resumed with
 * Last-Event-ID, so every event arrives once.
 */
export async function followExecution(id: string, onEvent: (event: IdentifiedEvent) => void, signal: AbortSignal): Promise<void> {
  let lastId: number | undefined
  let finished = false
  let retryMs = 2000
  while (!finished && !signal.aborted) {
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() }
      if (lastId !== undefined) headers['last-event-id'] = String(lastId)
      const response = await fetch(`${executionPath(id)}/events`, { headers, signal })
      if (response.status === 401) {
        await keyNeeded('This server needs an API key.')
        continue
      }
      if (!response.ok || response.body === null) return
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const message = parseBlock(block)
          if (message.retry !== undefined) retryMs = message.retry
          if (message.item === undefined) continue
          lastId = message.item.id
          if (message.item.event.type === 'execution_finished') finished = true
          onEvent(message.item)
        }
      }
      // The server closes the stream after execution_finished; any other close is a drop.
    } catch (error) {
      if (signal.aborted) return
      void error
    }
    if (!finished && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, retryMs))
  }
}

function parseBlock(block: string): { item?: IdentifiedEvent; retry?: number } {
  let id: number | undefined
  let data = ''
  let retry: number | undefined
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'id') id = Number(value)
    else if (field === 'data') data += value
    else if (field === 'retry') retry = Number(value)
  }
  if (id === undefined || data === '') return retry === undefined ? {} : { retry }
  try {
    return { item: { id, event: JSON.parse(data) as WireEvent }, ...(retry === undefined ? {} : { retry }) }
  } catch {
    return {}
  }
}
