import { z } from 'zod'

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
/** Longest `timeout_ms` the http task accepts: one hour. */
export const MAX_HTTP_TIMEOUT_MS = 3_600_000
const MAX_HEADERS = 100
/** RFC 9110 token: what a header name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

const Url = z
  .string()
  .max(8192)
  .superRefine((value, ctx) => {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value
      ctx.addIssue({ code: 'custom', message: `"${shown}" is not an absolute URL; write it like https://api.example.com/orders` })
      return
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `only http and https URLs can be called, not ${url.protocol}` })
    } else if (url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'a URL cannot carry a user name or password; send credentials in headers (e.g. "authorization")' })
    }
  })
  .describe('The http or https URL to call.')

const StatusCode = z.number().int().min(100).max(599)

/**
 * `expect_status`: one status (`201`) or an inclusive range `[low, high]`. A list of codes is not
 * accepted, because `[200, 204]` would read both as a range and as two codes.
 */
const ExpectStatus = z
  .union([StatusCode, z.tuple([StatusCode, StatusCode]).refine(([low, high]) => low <= high, { message: 'a status range is [low, high] with low <= high' })])
  .describe('The statuses that count as success: one status, or an inclusive range [low, high]. Default [200, 299].')

export const HttpInput = z
  .strictObject({
    url: Url,
    method: z.enum(HTTP_METHODS).default('GET').describe('Default GET.'),
    headers: z
      .record(
        z.string().regex(TOKEN, { message: "a header name is letters, digits and !#$%&'*+-.^_`|~ only" }),
        z.string().max(16_384).refine((v) => !/[\r\n\0]/.test(v), { message: 'a header value cannot contain CR, LF or NUL' }),
      )
      .refine((headers) => Object.keys(headers).length <= MAX_HEADERS, { message: `at most ${MAX_HEADERS} headers` })
      .optional()
      .describe('Request headers, name to value.'),
    body: z.unknown().optional().describe('A string is sent as it is; any other JSON value as JSON, with content-type application/json unless headers set one.'),
    timeout_ms: z.number().int().min(1).max(MAX_HTTP_TIMEOUT_MS).default(30_000).describe('Longest the whole call may take, redirects and body included. Default 30000.'),
    expect_status: ExpectStatus.default([200, 299]),
  })
  .superRefine((input, ctx) => {
    if (input.body !== undefined && (input.method === 'GET' || input.method === 'HEAD')) {
      // about: 'key': the body's presence is the problem, so a mapped body is refused at validation too.
      ctx.addIssue({ code: 'custom', path: ['body'], message: `a ${input.method} request has no body; use POST, PUT or PATCH to send one`, params: { about: 'key' } })
    }
  })

export type HttpInput = z.output<typeof HttpInput>

/** Whether a status is one that `expect_status` accepts. */
export function statusExpected(status: number, expected: HttpInput['expect_status']): boolean {
  return typeof expected === 'number' ? status === expected : status >= expected[0] && status <= expected[1]
}
