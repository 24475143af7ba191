import type { FastifyInstance } from 'fastify'
import { bodyTextProblem } from './edge-checks.js'
import { HttpProblemError } from './problem.js'

/** Deepest nesting of arrays and objects accepted in a JSON body. */
export const DEFAULT_MAX_JSON_DEPTH = 64

/**
 * The nesting depth of a JSON text, measured without parsing it. Stops as soon as `limit` is
 * passed, so a hostile body costs one scan at most. Brackets inside strings do not count.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) {
      inString = true
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--
    }
  }
  return false
}

/**
 * Replaces Fastify's JSON parser. Keys such as `__proto__` and `constructor` stay data: JSON.parse
 * defines them as own properties and never touches a prototype, so they round-trip to storage and
 * back (Fastify's default would refuse them with a 400). Nothing here or downstream assigns parsed
 * keys onto existing objects, which is where pollution would come from.
 *
 * Depth is limited because stringifying a deeply nested value later would overflow the stack.
 * Text with NUL or lone surrogates is refused here, before any route can store it.
 */
export function registerJsonParser(app: FastifyInstance, maxDepth: number): void {
  // JSON is the only body this API reads; text/plain would otherwise reach the schemas as a string.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json(\s*;.*)?$/i, { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string
    // An empty body is no body (e.g. `curl -X POST -H 'content-type: application/json' …/cancel`);
    // routes that need one say so through their schema.
    if (text.trim() === '') {
      done(null, undefined)
      return
    }
    if (jsonDepthExceeds(text, maxDepth)) {
      done(new HttpProblemError('JSON_TOO_DEEP', `the JSON body nests arrays and objects more than ${maxDepth} levels deep`), undefined)
      return
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      done(new HttpProblemError('JSON_INVALID', `the body is not valid JSON: ${(error as Error).message}`), undefined)
      return
    }
    const refused = bodyTextProblem(text, value)
    if (refused !== undefined) done(refused, undefined)
    else done(null, value)
  })
}
