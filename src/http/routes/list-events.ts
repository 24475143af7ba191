import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { openEventStream } from '../execution-events.js'
import type { ExecutionFeed, FeedEvent } from '../execution-feed.js'
import { HttpProblemError } from '../problem.js'
import { COMMON_PROBLEMS } from '../schemas.js'

export interface ListEventRouteDeps {
  readonly feed: ExecutionFeed
  /** Milliseconds between heartbeat comments, which also carry the stream's position. */
  readonly heartbeatMs: number
  /** Open streams register their closer here, so that shutdown can end them. */
  readonly openStreams: Set<() => void>
}

/** Unsent bytes a slow client may leave queued; beyond, its stream is closed and it resumes with Last-Event-ID. */
const MAX_QUEUED_BYTES = 1024 * 1024

const format = (event: FeedEvent): string => `id: ${event.position}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`

/** Where to resume: Last-Event-ID (a position this stream sent), else `since`; undefined for live only. */
function resumeFrom(header: string | string[] | undefined, since: string | undefined): number | undefined {
  const raw = Array.isArray(header) ? header[0] : header
  if (raw !== undefined && raw.trim() !== '') {
    const position = Number(raw)
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new HttpProblemError('REQUEST_INVALID', 'the Last-Event-ID header must be the id of an event of this stream (a whole number)', [
        { code: 'INVALID_VALUE', path: '/last-event-id', message: 'expected a whole number, as sent in the stream\'s "id:" lines' },
      ])
    }
    return position
  }
  return since === undefined ? undefined : Date.parse(since)
}

/** GET /api/v1/events: server-sent events of every execution's changes of status, for lists. */
export function listEventRoutes(app: FastifyInstance, deps: ListEventRouteDeps): void {
  const { feed } = deps
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/events',
    {
      schema: {
        tags: ['executions'],
        operationId: 'streamExecutionChanges',
        summary: 'Server-sent events of executions being created, changing status and finishing, for lists',
        description:
          'Events execution_created, execution_updated (a status change: started, resumed) and execution_finished carry the execution\'s summary fields as in GET /api/v1/executions, without `input`, plus `event_seq`, which grows with every change of one execution. Changes made by other nodes on the same database arrive within about a second. Each event\'s id is a stream position: send it back as Last-Event-ID (or a time as `since`) and the stream first sends the current summary of every execution changed since, so that a reconnect misses nothing (some may come twice; apply them by execution_id). `reset` means more changed than can be told one by one: read the list again. Comments (": heartbeat") keep the connection open and carry the latest position.',
        querystring: z.strictObject({
          since: z.iso.datetime({ offset: true }).optional().describe('Replay the executions changed at or after this time (ISO 8601) first. Last-Event-ID wins over it.'),
        }),
        produces: ['text/event-stream'],
        response: { 200: z.string().describe('text/event-stream'), ...COMMON_PROBLEMS },
      },
    },
    async (request, reply) => {
      const since = resumeFrom(request.headers['last-event-id'], request.query.since)
      // Listen before reading what changed, so that nothing between the two is missed.
      const pending: FeedEvent[] = []
      let onEvent: (event: FeedEvent) => void = (event) => pending.push(event)
      const unsubscribe = feed.subscribe((event) => onEvent(event))
      let replayed: FeedEvent[] | undefined = []
      try {
        if (since !== undefined) replayed = await feed.replay(since)
      } catch (error) {
        unsubscribe()
        throw error
      }

      const raw = reply.raw
      openEventStream(reply)
      let ended = false
      const heartbeat = setInterval(() => write(`: heartbeat\nid: ${feed.position()}\n\n`), deps.heartbeatMs)
      heartbeat.unref()
      const end = (): void => {
        if (ended) return
        ended = true
        unsubscribe()
        clearInterval(heartbeat)
        deps.openStreams.delete(end)
        raw.end()
      }
      const write = (text: string): void => {
        if (ended) return
        raw.write(text)
        if (raw.writableLength > MAX_QUEUED_BYTES) {
          request.log.debug('list event stream: the client reads too slowly; closing its stream')
          end()
        }
      }
      deps.openStreams.add(end)
      raw.on('close', end)
      write('retry: 2000\n\n')

      if (replayed === undefined) {
        write(format({ type: 'reset', position: feed.position(), executionId: null, eventSeq: 0, data: { type: 'reset', reason: 'more executions changed since then than a stream replays' } }))
      } else {
        for (const event of replayed) write(format(event))
      }
      // Live events that came during the replay may be older than what it read: the log position says.
      const told = new Map((replayed ?? []).map((e) => [e.executionId, e.eventSeq]))
      for (const event of pending.splice(0)) {
        const seq = told.get(event.executionId)
        if (seq === undefined || event.eventSeq > seq) write(format(event))
      }
      // Where the stream stands, so that a client that sees no change still resumes from here.
      write(`id: ${feed.position()}\n\n`)
      onEvent = (event) => write(format(event))
    },
  )
}
