import type { FastifySchemaCompiler } from 'fastify'
import type { z } from 'zod'
import type { Issue } from '../core/errors.js'
import { pointer } from '../core/json-pointer.js'

/** Which part of the request failed its schema. */
export type RequestPart = 'body' | 'querystring' | 'params' | 'headers'

/** A request that does not match its route's schema; answered 400 with every issue. */
export class RequestValidationError extends Error {
  readonly statusCode = 400
  constructor(
    readonly part: RequestPart,
    readonly issues: readonly Issue[],
  ) {
    const first = issues[0]
    const where = part === 'body' ? 'the body' : part === 'querystring' ? 'the query string' : `the ${part}`
    super(`${where} is invalid: ${first === undefined ? '' : `${first.path === '' ? '' : `${first.path}: `}${first.message}`}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`)
    this.name = 'RequestValidationError'
  }
}

/** Zod issues as the API reports issues: a stable code and a JSON pointer into the part that failed. */
export function toIssues(issues: readonly z.core.$ZodIssue[]): Issue[] {
  const out: Issue[] = []
  for (const issue of issues) {
    const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol')
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ code: 'UNKNOWN_KEY', path: pointer([...path, key]), message: `unknown key "${key}"` })
      continue
    }
    const missing = issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined
    out.push({
      code: missing ? 'MISSING_FIELD' : issue.code === 'invalid_type' ? 'INVALID_TYPE' : 'INVALID_VALUE',
      path: pointer(path),
      message: missing ? `required field "${String(path[path.length - 1] ?? 'body')}" is missing` : issue.message,
    })
  }
  return out
}

const PARTS: ReadonlySet<string> = new Set(['body', 'querystring', 'params', 'headers'])

/**
 * Validates with the route's zod schemas, like fastify-type-provider-zod's compiler, but keeps
 * RFC 6901 pointers (its instancePath does not escape `/` or `~`) and the README's issue codes.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part = (PARTS.has(httpPart ?? '') ? httpPart : 'body') as RequestPart
  return (data: unknown) => {
    const result = schema.safeParse(data, { reportInput: true })
    if (result.success) return { value: result.data }
    return { error: new RequestValidationError(part, toIssues(result.error.issues)) }
  }
}
