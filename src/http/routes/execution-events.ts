import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { FlowManagerError } from '../../core/errors.js'
import type { EngineEvent } from '../../engine/engine-events.js'
import type { Engine } from '../../engine/engine.js'
import { formatSse, historyOf, LiveEventMapper, type IdentifiedEvent } from '../execution-events.js'
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
        summary: 'Server-sent events of an execution: its history, then live events until it ends',
        description:
          'Events: execution_started, task_started, task_finished, execution_finished; each with a numeric id. Send Last-Event-ID to resume after an event. Comments (": heartbeat") keep the connection open.',
        params: z.object({ id: z.string().min(1).max(200) }),
        querystring: z.strictObject({ last_event_id: z.coerce.number().int().optional() }),
        produces: ['text/event-stream'],
        response: { 200: z.string().describe('text/event-stream'), 404: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      const log = request.log.child({ executionId: id })
      // Listen before reading the record, so that nothing between the two is missed; ids drop repeats.
      const pending: EngineEvent[] = []
      let onEvent: (event: EngineEvent) => void = (event) => pending.push(event)
      const unsubscribe = engine.subscribe((event) => {
        if (event.executionId === id) onEvent(event)
      })
      let detail
      try {
        detail = await engine.get(id)
      } catch (error) {
        unsubscribe()
        throw error
      }
      if (detail === undefined) {
        unsubscribe()
        throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${id}"`)
      }

      let lastSent = lastEventIdOf(request.headers['last-event-id'], request.query.last_event_id)
      const mapper = new LiveEventMapper(detail.runs[detail.runs.length - 1]?.seq ?? 0)
      const raw = reply.raw
      let ended = false
      const end = (): void => {
        if (ended) return
        ended = true
        unsubscribe()
        clearInterval(timer)
        deps.openStreams.delete(end)
        raw.end()
      }
      const send = (items: readonly IdentifiedEvent[]): void => {
        for (const item of items) {
          if (ended) return
          if (item.id <= lastSent) continue
          lastSent = item.id
          raw.write(formatSse(item))
          if (item.event.type === 'execution_finished') end()
        }
      }

      // The heartbeat also re-reads the record: it catches an execution that another process
      // runs or that ended while no event reached this one.
      const timer = setInterval(() => {
        if (ended) return
        raw.write(': heartbeat\n\n')
        engine.get(id).then(
          (latest) => {
            if (latest === undefined || ended) return
            mapper.seen(latest.runs[latest.runs.length - 1]?.seq ?? 0)
            send(historyOf(latest))
          },
          (error: unknown) => log.warn({ err: error }, 'event stream: could not re-read the execution'),
        )
      }, deps.heartbeatMs)
      timer.unref()

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
      raw.write('retry: 2000\n\n')
      deps.openStreams.add(end)
      raw.on('close', end)
      send(historyOf(detail))
      onEvent = (event) => send(mapper.map(event))
      for (const event of pending.splice(0)) onEvent(event)
    },
  )
}
