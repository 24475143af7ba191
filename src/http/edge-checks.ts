import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { pointer } from '../core/json-pointer.js'
import { findInvalidText, textProblem } from '../core/text-check.js'
import { HttpProblemError, PROBLEM_CONTENT_TYPE, problem } from './problem.js'

/**
 * Checks at the edge, before a request reaches a route: text every store keeps as it is, data
 * within the data limit, URLs that decode, and bodies that arrive in time.
 */

/**
 * JSON text can only hold NUL or a lone surrogate as a `\u` escape: raw control characters are not
 * JSON, and UTF-8 decoding turns an encoded surrogate into U+FFFD. Bodies without such an escape
 * (nearly all) skip the walk over the parsed value.
 */
const SUSPECT_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/

/** The problem for a body with text no store keeps as it is, or undefined. */
export function bodyTextProblem(text: string, value: unknown): HttpProblemError | undefined {
  if (!SUSPECT_ESCAPE.test(text)) return undefined
  const bad = findInvalidText(value)
  if (bad === undefined) return undefined
  const path = pointer(bad.path)
  // Quoted as JSON, so that the offending character shows as an escape, not as garbage.
  const what = `the ${bad.in === 'key' ? 'key' : 'text'} at ${JSON.stringify(path)}`
  const message = `${what} ${bad.why}; every string and key must be valid Unicode without NUL`
  return new HttpProblemError('TEXT_INVALID', `the body is refused: ${message}`, [{ code: 'TEXT_INVALID', path, message }])
}

/** Refuses path parameters and query values with NUL or lone surrogates. */
export function registerUrlTextCheck(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    for (const [part, values] of [
      ['path', request.params],
      ['query string', request.query],
    ] as const) {
      if (typeof values !== 'object' || values === null) continue
      for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
        const texts: unknown[] = Array.isArray(value) ? [name, ...(value as unknown[])] : [name, value]
        for (const text of texts) {
          const why = typeof text === 'string' ? textProblem(text) : undefined
          if (why !== undefined) {
            done(new HttpProblemError('TEXT_INVALID', `"${name}" in the ${part} ${why}; text must be valid Unicode without NUL`))
            return
          }
        }
      }
    }
    done()
  })
}

/** Where a URL whose percent-encoding does not decode is sent, so that it is answered like any bad request. */
export const INVALID_URL_PATH = '/__invalid-url'

/**
 * Fastify's router answers such URLs itself (its own JSON, none of our headers), so they are
 * rewritten before routing to a route that refuses them with a problem. Only paths with a `%`
 * are decoded, so other requests pay nothing but a scan for it.
 */
export function rewriteInvalidUrl(url: string): string {
  const query = url.indexOf('?')
  const path = query === -1 ? url : url.slice(0, query)
  if (!path.includes('%')) return url
  try {
    decodeURIComponent(path)
    return url
  } catch {
    return INVALID_URL_PATH
  }
}

export function registerInvalidUrlRoute(app: FastifyInstance): void {
  app.all(INVALID_URL_PATH, { schema: { hide: true } }, (request) => {
    throw new HttpProblemError('REQUEST_INVALID', `the URL ${JSON.stringify(request.originalUrl.split('?')[0] ?? '')} has percent-encoding that is not valid UTF-8`)
  })
}

/** The data limit on one value of a request: the execution input, one task's data. */
export function checkDataSize(value: unknown, limit: number, what: string): void {
  if (value === undefined) return
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '')
  if (bytes > limit) {
    throw new HttpProblemError('DATA_TOO_LARGE', `${what} is ${bytes} bytes of JSON; at most ${limit} are allowed (FLOW_MANAGER_DATA_LIMIT)`)
  }
}

/**
 * Answers what Node's HTTP parser refuses before a request exists: a body that does not arrive
 * within the request timeout (408), headers too large (431), bytes that are not HTTP (400). These
 * go straight to the socket, so the answer is written here: a problem, and the headers that
 * matter for a JSON error body. A client that has gone away gets nothing and a debug line.
 */
export function clientErrorHandler(requestTimeoutMs: number): (this: FastifyInstance, error: Error & { code?: string }, socket: Socket) => void {
  return function handle(this: FastifyInstance, error, socket) {
    const log: FastifyBaseLogger = this.log
    // HPE_INVALID_EOF_STATE: the connection ended in the middle of a request.
    if (error.code === 'ECONNRESET' || error.code === 'HPE_INVALID_EOF_STATE' || socket.destroyed) {
      log.debug({ code: error.code }, 'the client closed the connection')
      socket.destroy()
      return
    }
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    const status = timeout ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
    const body = JSON.stringify({
      ...(timeout
        ? problem('REQUEST_TIMEOUT', `the request did not arrive within ${requestTimeoutMs} ms (FLOW_MANAGER_REQUEST_TIMEOUT_MS)`)
        : problem('REQUEST_INVALID', status === 431 ? 'the request headers are too large' : 'the request is not valid HTTP')),
      status,
    })
    if (timeout) log.info({ status }, 'a request did not arrive in time')
    else log.debug({ code: error.code, status }, 'refused a request that is not valid HTTP')
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `x-content-type-options: nosniff\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
      )
    }
    socket.destroy()
  }
}
