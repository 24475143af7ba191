import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { FlowManagerError } from '../../core/errors.js'
import type { Engine } from '../../engine/engine.js'
import type { ExecutionEventRecord } from '../../store/store.js'
import { formatSse, openEventStream } from '../execution-events.js'
import { COMMON_PROBLEMS, ProblemSchema } from '../schemas.js'

export interface EventRouteDeps {
  readonly engine: Engine
  /** Milliseconds between heartbeat comments, at which the record is also re-read. */
  readonly heartbeatMs: number
  /** Open streams register their closer here, so that shutdown can end them. */
  readonly openStreams: Set<() => void>
}

/** `Last-Event-ID` (or `?last_event_id=` for clients that cannot set headers): events up to it are skipped. */
function lastEventIdOf(header: string | string[] | undefined, query: number | undefined): number {
  const raw = Array.isArray(header) ? header[0] : header
  const parsed = raw === undefined ? NaN : Number.parseInt(raw, 10)
  if (Number.isSafeInteger(parsed)) return parsed
  return query ?? -1
}

/** GET /api/v1/executions/{id}/events: server-sent events, history first, then live, closed at the end. */
export function executionEventRoutes(app: FastifyInstance, deps: EventRouteDeps): void {
  const { engine } = deps
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/executions/:id/events',
    {
      schema: {
        tags: ['executions'],
        operationId: 'streamExecutionEvents',
        summary: 'Server-sent events of an execution: its history, then live events until it ends',
        description:
          'The execution\'s whole event log: execution_queued, execution_started, task_started (with item_count for a for_each task), task_waiting, task_finished (with retry_at when a retry is planned), routed, task_interrupted, execution_resumed, cancel_requested, execution_finished. A resumed execution\'s history goes on past its earlier execution_finished; the stream closes at the last one. Each event\'s id is its position in the log; send Last-Event-ID to resume after it. Comments (": heartbeat") keep the connection open.',
        params: z.object({ id: z.string().min(1).max(200) }),
        querystring: z.strictObject({ last_event_id: z.coerce.number().int().optional() }),
        produces: ['text/event-stream'],
        response: { 200: z.string().describe('text/event-stream'), 404: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      const log = request.log.child({ executionId: id })
      // Listen before reading the log, so that nothing between the two is missed; seq drops repeats.
      const pending: ExecutionEventRecord[] = []
      let onLogged: (events: readonly ExecutionEventRecord[]) => void = (events) => pending.push(...events)
      const unsubscribe = engine.subscribe((notice) => {
        if (notice.type === 'logged' && notice.executionId === id) onLogged(notice.events)
      })
      let record
      try {
        record = await engine.reads.record(id)
      } catch (error) {
        unsubscribe()
        throw error
      }
      if (record === undefined) {
        unsubscribe()
        throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${id}"`)
      }

      let lastSent = lastEventIdOf(request.headers['last-event-id'], request.query.last_event_id)
      const raw = reply.raw
      let ended = false
      let reading = false
      const end = (): void => {
        if (ended) return
        ended = true
        unsubscribe()
        clearInterval(timer)
        deps.openStreams.delete(end)
        raw.end()
      }
      // The log's length when the stream opened: an execution_finished before it was followed by a resume,
      // so the history is replayed whole and the stream ends only at the last end.
      const historyEnd = record.eventSeq
      const send = (events: readonly ExecutionEventRecord[]): void => {
        for (const event of events) {
          if (ended) return
          if (event.seq <= lastSent) continue
          lastSent = event.seq
          raw.write(formatSse(event))
          if (event.type === 'execution_finished' && event.seq >= historyEnd) end()
        }
      }
      /** Sends what the log holds after the last event sent: the history, and what other nodes wrote. */
      const catchUp = async (): Promise<void> => {
        if (reading || ended) return
        reading = true
        try {
          for (;;) {
            const page = await engine.reads.events(id, lastSent, 500)
            send(page)
            if (page.length < 500 || ended) break
          }
        } finally {
          reading = false
        }
      }

      // The heartbeat also reads the log: it carries events written by another node.
      const timer = setInterval(() => {
        if (ended) return
        raw.write(': heartbeat\n\n')
        catchUp().catch((error: unknown) => log.warn({ err: error }, 'event stream: could not read the event log'))
      }, deps.heartbeatMs)
      timer.unref()

      openEventStream(reply)
      raw.write('retry: 2000\n\n')
      deps.openStreams.add(end)
      raw.on('close', end)
      await catchUp()
      // A finished execution whose whole log was already seen has nothing more to say.
      const status = record.status
      if ((status === 'completed' || status === 'failed' || status === 'cancelled') && lastSent >= record.eventSeq) end()
      onLogged = send
      send(pending.splice(0))
    },
  )
}
