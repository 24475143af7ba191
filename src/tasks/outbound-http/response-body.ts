import type { ReadableStream } from 'node:stream/web'
import type { Response } from 'undici'
import { HttpTaskError } from './http-task-error.js'

/** Largest response body the http task reads, decoded: 10 MiB. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024

/**
 * Reads a body chunk by chunk and stops at `limit` bytes, so a huge (or endless, or compressed
 * to a bomb) response costs at most the limit. Past it: with `truncate` the bytes read so far,
 * else HTTP_RESPONSE_TOO_LARGE.
 */
export async function readBody(response: Response, limit: number, truncate: boolean, what: string): Promise<{ bytes: Buffer; truncated: boolean }> {
  const limitText = `the limit of ${limit} bytes (${+(limit / 1048576).toFixed(2)} MiB)`
  const tooLarge = (message: string): HttpTaskError => new HttpTaskError('HTTP_RESPONSE_TOO_LARGE', message, false)
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (!truncate && response.headers.get('content-encoding') === null && declared > limit) {
    await response.body?.cancel().catch(() => undefined)
    throw tooLarge(`${what} answered with a body of ${declared} bytes, over ${limitText}`)
  }
  if (response.body === null) return { bytes: Buffer.alloc(0), truncated: false }
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return { bytes: Buffer.concat(chunks, size), truncated: false }
    if (size + value.byteLength > limit) {
      // Not awaited: the caller aborts the request, which ends the stream either way.
      reader.cancel().catch(() => undefined)
      if (!truncate) throw tooLarge(`${what} answered with a body over ${limitText}; reading stopped there`)
      chunks.push(value.subarray(0, limit - size))
      return { bytes: Buffer.concat(chunks, limit), truncated: true }
    }
    chunks.push(value)
    size += value.byteLength
  }
}

/** The body as data: parsed when the response says it is JSON and it parses, else text. */
export function decodeBody(bytes: Buffer, contentType: string | null): unknown {
  const text = decodeText(bytes, charsetOf(contentType))
  if (isJson(contentType) && text.trim() !== '') {
    try {
      return JSON.parse(text) as unknown
    } catch {
      // A body that claims to be JSON and is not is kept as the text it is.
    }
  }
  return text
}

/** `application/json` and the `+json` types (`application/problem+json`, …). */
export function isJson(contentType: string | null): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  return type === 'application/json' || type === 'text/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

function charsetOf(contentType: string | null): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]
}

function decodeText(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes)
  } catch {
    // An unknown charset label: UTF-8, with replacement characters where it does not fit.
    return new TextDecoder('utf-8').decode(bytes)
  }
}
