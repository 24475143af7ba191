import type { FastifyReply } from 'fastify'
import type { ExecutionEventRecord } from '../store/store.js'

/**
 * An event of an execution's log on the wire (SSE `data:`), snake_case like the rest of the API:
 * `{type, execution_id, event_seq, at, task_name, ...data}`. The SSE `id` is `event_seq`, so
 * `Last-Event-ID` resumes exactly after the last event a client saw, on any node.
 *
 * Types and their data: execution_queued, execution_started {flow_id, flow_version},
 * task_started {seq, task_type, attempt, step}, task_finished {seq, status, duration_ms, error,
 * error_code, next_task}, routed {to, condition}, task_interrupted {seq, attempt},
 * execution_resumed {reason, …}, cancel_requested, execution_finished {status, error, failed_task}.
 * `seq` in task events is the task run's number (as in `task_results`), not the event's.
 */
export interface WireEvent {
  readonly type: string
  readonly execution_id: string
  readonly event_seq: number
  readonly at: string
  readonly task_name: string | null
  readonly [field: string]: unknown
}

export function toWireEvent(event: ExecutionEventRecord): WireEvent {
  const data = typeof event.data === 'object' && event.data !== null ? (event.data as Record<string, unknown>) : {}
  return {
    ...data,
    type: event.type,
    execution_id: event.executionId,
    event_seq: event.seq,
    at: new Date(event.at).toISOString(),
    task_name: event.taskName,
  }
}

/** One SSE message. JSON.stringify never emits a raw newline, so data fits on one line. */
export function formatSse(event: ExecutionEventRecord): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(toWireEvent(event))}\n\n`
}

/**
 * Takes the response over from Fastify and opens a server-sent event stream on it, keeping the
 * headers set so far (security, CORS, request id). Proxies are asked not to buffer it.
 */
export function openEventStream(reply: FastifyReply): void {
  const raw = reply.raw
  reply.hijack()
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) raw.setHeader(name, value)
  }
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  })
}
