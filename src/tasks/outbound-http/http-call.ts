import type { Dispatcher, Response, fetch as undiciFetch } from 'undici'
import { statusExpected, type HttpInput } from './http-input.js'
import { HttpTaskError } from './http-task-error.js'
import { decodeBody, MAX_RESPONSE_BYTES, readBody } from './response-body.js'

/** Redirects followed before the call fails with HTTP_TOO_MANY_REDIRECTS. */
export const MAX_REDIRECTS = 10
/** On an unexpected status, this much of the body is kept in the failure's data. */
const FAILURE_BODY_BYTES = 64 * 1024
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])
/** Headers that carry credentials: not sent on to another origin (as browsers' fetch does). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization']
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']

export interface HttpClient {
  readonly fetch: typeof undiciFetch
  readonly dispatcher: Dispatcher
}

/** What a call yields as the task's data. */
export interface HttpResponseData {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: unknown
}

/** Makes the call described by `input`; resolves to the task's result, or throws an HttpTaskError. */
export async function callHttp(client: HttpClient, input: HttpInput, signal: AbortSignal): Promise<unknown> {
  const controller = new AbortController()
  const onAbort = (): void => controller.abort(signal.reason)
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, { once: true })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, input.timeout_ms)
  const what = `${input.method} ${shown(new URL(input.url))}`
  try {
    const response = await follow(client, input, controller.signal)
    const expected = statusExpected(response.status, input.expect_status)
    const { bytes, truncated } = await readBody(response, expected ? MAX_RESPONSE_BYTES : FAILURE_BODY_BYTES, !expected, what)
    const contentType = response.headers.get('content-type')
    const data: HttpResponseData = {
      status: response.status,
      headers: headersOf(response),
      body: truncated ? bytes.toString('utf8') : decodeBody(bytes, contentType),
    }
    if (expected) return data
    const retryable = response.status >= 500 || response.status === 429
    const retryAfter = response.headers.get('retry-after')
    const range = typeof input.expect_status === 'number' ? String(input.expect_status) : `[${input.expect_status.join(', ')}]`
    const error = new HttpTaskError(
      'HTTP_STATUS_UNEXPECTED',
      `${what} answered ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}, outside expect_status ${range}${retryAfter === null ? '' : ` (retry-after: ${retryAfter})`}`,
      retryable,
    )
    return { status: 'failure', error, data: truncated ? { ...data, body_truncated: true } : data }
  } catch (error) {
    if (timedOut) throw new HttpTaskError('HTTP_TIMEOUT', `${what} took longer than timeout_ms (${input.timeout_ms} ms)`, true)
    if (signal.aborted) throw error
    throw asTaskError(error, what)
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
    // Tears down whatever of the request is still open (an unread or cut-off body).
    controller.abort()
  }
}

/** Sends the request and follows redirects itself, so that every hop goes through the guard. */
async function follow(client: HttpClient, input: HttpInput, signal: AbortSignal): Promise<Response> {
  let url = new URL(input.url)
  let method: string = input.method
  // Lower-cased names in a Map: a plain record, whatever fetch implementation reads it.
  const headers = new Map(Object.entries(input.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]))
  if (!headers.has('user-agent')) headers.set('user-agent', 'flow-manager')
  let body: string | undefined
  if (typeof input.body === 'string') body = input.body
  else if (input.body !== undefined) {
    body = JSON.stringify(input.body)
    if (!headers.has('content-type')) headers.set('content-type', 'application/json')
  }
  for (let hop = 0; ; hop++) {
    const response = await client.fetch(url, { method, headers: [...headers], ...(body === undefined ? {} : { body }), redirect: 'manual', dispatcher: client.dispatcher, signal })
    const location = response.headers.get('location')
    if (!REDIRECTS.has(response.status) || location === null) return response
    await response.body?.cancel().catch(() => undefined)
    if (hop === MAX_REDIRECTS) {
      throw new HttpTaskError('HTTP_TOO_MANY_REDIRECTS', `${input.method} ${shown(new URL(input.url))} redirected more than ${MAX_REDIRECTS} times`, false)
    }
    let next: URL
    try {
      next = new URL(location, url)
    } catch {
      throw new HttpTaskError('HTTP_REDIRECT_INVALID', `${method} ${shown(url)} redirected to "${location.slice(0, 200)}", which is not a URL`, false)
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new HttpTaskError('HTTP_REDIRECT_INVALID', `${method} ${shown(url)} redirected to a ${next.protocol} URL; only http and https are followed`, false)
    }
    // As fetch does: 303 turns any method but HEAD into GET, 301/302 turn POST into GET; 307/308 keep both.
    if ((response.status === 303 && method !== 'HEAD') || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      method = 'GET'
      body = undefined
      for (const name of BODY_HEADERS) headers.delete(name)
    }
    if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name)
    url = next
  }
}

/** Repeated headers are joined with ", ", as HTTP allows (set-cookie too). */
function headersOf(response: Response): Record<string, string> {
  const out = new Map<string, string>()
  for (const [name, value] of response.headers) {
    const before = out.get(name)
    out.set(name, before === undefined ? value : `${before}, ${value}`)
  }
  return Object.fromEntries(out)
}

/** A URL for messages: without its query, which often carries keys. */
function shown(url: URL): string {
  return `${url.origin}${url.pathname}`
}

function asTaskError(error: unknown, what: string): HttpTaskError {
  if (error instanceof HttpTaskError) return error
  const cause = error instanceof Error ? error.cause : undefined
  if (cause instanceof HttpTaskError) return cause
  if (error instanceof TypeError && cause === undefined) {
    // fetch refuses a request it cannot send (a header it forbids, say) without a cause.
    return new HttpTaskError('HTTP_REQUEST_INVALID', `${what} cannot be sent: ${error.message}`, false, { cause: error })
  }
  const why = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error)
  return new HttpTaskError('HTTP_REQUEST_FAILED', `${what} failed: ${why}`, true, { cause: error })
}
