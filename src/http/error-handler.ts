import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isFlowManagerError } from '../core/errors.js'
import { isStoreUnavailable } from '../store/store-errors.js'
import { HttpProblemError, PROBLEM_CONTENT_TYPE, problem, STATUS, type Problem, type ProblemCode } from './problem.js'
import { RequestValidationError } from './validation.js'

/** Fastify's own refusals, by their error code. Anything else it raises with a 4xx is REQUEST_INVALID. */
const FASTIFY_CODES: Readonly<Record<string, ProblemCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'MEDIA_TYPE_UNSUPPORTED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'JSON_INVALID',
  FST_ERR_CTP_INVALID_JSON_BODY: 'JSON_INVALID',
  FST_ERR_NOT_FOUND: 'ROUTE_NOT_FOUND',
}

/** What a 415 says: which header is missing, and what the request sent instead. */
export function mediaTypeDetail(contentType: string | undefined): string {
  const sent = contentType === undefined || contentType.trim() === '' ? 'no content-type header' : `content-type "${contentType.slice(0, 100)}"`
  return `the body must be JSON sent with the header "content-type: application/json" (with curl: -H 'content-type: application/json'); this request had ${sent}`
}

/** Turns any error into the problem to send. Faults of ours get a generic answer: no internals leak. */
export function toProblem(error: unknown, request?: Pick<FastifyRequest, 'headers'>): { problem: Problem; fault: boolean } {
  if (error instanceof RequestValidationError) return { problem: problem('REQUEST_INVALID', error.message, error.issues), fault: false }
  if (error instanceof HttpProblemError) {
    return { problem: problem(error.code, error.message, error.issues), fault: STATUS[error.code] >= 500 }
  }
  if (isFlowManagerError(error)) {
    const status = STATUS[error.code]
    if (status >= 500) {
      const detail = error.code === 'SHUTTING_DOWN' ? error.message : error.code === 'STORE_UNAVAILABLE' ? 'the database did not answer; try again' : 'an unexpected error occurred; it has been logged'
      return { problem: problem(status === 503 ? error.code : 'INTERNAL', detail), fault: error.code !== 'SHUTTING_DOWN' }
    }
    return { problem: problem(error.code, error.message, error.issues.length > 0 ? error.issues : undefined), fault: false }
  }
  if (isStoreUnavailable(error)) return { problem: problem('STORE_UNAVAILABLE', 'the database cannot serve this request now; try again'), fault: true }
  const fastifyError = error as Partial<FastifyError>
  const statusCode = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500
  if (statusCode >= 400 && statusCode < 500 && typeof fastifyError.code === 'string' && fastifyError.code.startsWith('FST_')) {
    const code = FASTIFY_CODES[fastifyError.code] ?? 'REQUEST_INVALID'
    const detail = code === 'MEDIA_TYPE_UNSUPPORTED' ? mediaTypeDetail(request?.headers['content-type']) : (fastifyError.message ?? 'the request was refused')
    return { problem: { ...problem(code, detail), status: statusCode }, fault: false }
  }
  return { problem: problem('INTERNAL', 'an unexpected error occurred; it has been logged'), fault: true }
}

/** Seconds a client should wait before trying again a request answered 503. */
export const RETRY_AFTER_SECONDS = 5

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  // 503 is "not now": say when to try again (the database, or a node that is shutting down).
  if (body.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_SECONDS))
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body)
}

/**
 * A request whose client went away before it was complete (it hung up, or the request timeout
 * closed it): nothing is wrong on our side and nobody is left to answer.
 */
function clientGone(error: unknown, request: FastifyRequest): boolean {
  // The socket, not the request stream: Node destroys the stream once its body has been read.
  if (request.raw.socket?.destroyed === true) return true
  // A database connection reset carries the same codes: that one is ours to answer (503).
  if (isStoreUnavailable(error)) return false
  const code = (error as { code?: unknown } | null)?.code
  return code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'ERR_STREAM_PREMATURE_CLOSE'
}

/** Every error response, the framework's own included, becomes application/problem+json. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (clientGone(error, request)) {
      request.log.debug({ code: (error as { code?: unknown } | null)?.code }, 'the client closed the connection before the request was complete')
      return sendProblem(reply, problem('REQUEST_INVALID', 'the request was not complete'))
    }
    const { problem: body, fault } = toProblem(error, request)
    if (fault) request.log.error({ err: error }, 'request failed with an unexpected error')
    else request.log.info({ code: body.code, status: body.status }, body.detail)
    return sendProblem(reply, body)
  })
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problem('ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)))
}
