import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import { DOCS_PREFIX } from './openapi.js'
import { UI_PREFIX } from './routes/ui.js'

/**
 * The header the web UI sends with every request. Its reads (the executions list refreshing, an
 * execution page re-reading) are the UI at work, not a client's decisions: they log at debug.
 */
export const UI_CLIENT_HEADER = 'x-flow-manager-client'
export const UI_CLIENT_VALUE = 'ui'

/** Probes and scrapes: asked every few seconds by machines. */
const OPERATIONS = new Set(['/health', '/ready', '/metrics', '/openapi.json'])

const isStream = (request: FastifyRequest): boolean => {
  const produces = (request.routeOptions.schema as { produces?: readonly string[] } | undefined)?.produces
  return produces?.includes('text/event-stream') === true
}

/**
 * Whether a request's access log belongs at debug rather than info: files of the web UI and of
 * /docs, probes and metrics scrapes, event streams (which stay open for as long as a page does),
 * and reads sent by the web UI. Requests to the API from any other client stay at info.
 */
export function isQuietRequest(request: FastifyRequest): boolean {
  const route = request.routeOptions.url
  if (route === undefined) return false
  if (route === '/' || route === '/ui' || route.startsWith(UI_PREFIX) || route === DOCS_PREFIX || route.startsWith(`${DOCS_PREFIX}/`)) return true
  if (OPERATIONS.has(route) || isStream(request)) return true
  const reads = request.method === 'GET' || request.method === 'HEAD'
  return reads && request.headers[UI_CLIENT_HEADER] === UI_CLIENT_VALUE
}

/**
 * Fastify's access log, one line per request: "request completed" with method, URL, status and
 * time, at info for API requests and at debug for the quiet ones above. The "incoming request"
 * line is always debug (the completed line says everything it does), and a client that hangs up
 * is debug: it is the client's decision, not a fault.
 */
export class AccessLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const fields = { req: request, res: reply, responseTime: reply.elapsedTime }
    if (error) reply.log.error({ ...fields, err: error }, 'request errored')
    else if (isQuietRequest(request)) reply.log.debug(fields, 'request completed')
    else reply.log.info(fields, 'request completed')
  }

  override streamError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if ((error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') reply.log.debug({ res: reply }, 'the client closed the connection before the answer was sent')
    else super.streamError(error, request, reply)
  }
}
