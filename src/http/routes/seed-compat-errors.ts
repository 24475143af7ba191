import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Issue } from '../../core/errors.js'
import { sendProblem, toProblem } from '../error-handler.js'
import type { ProblemCode } from '../problem.js'

/**
 * What each original service answered when something went wrong, one table per service (the
 * README's "Clients of the original services" lists them). A table maps each situation to a status
 * and a body, in the shape that service's clients read. Where the original answered 500 (a failed
 * run, an unknown task, a bug of its own), the table holds the nearest 4xx instead, and a failed
 * run is a 200 with the run. Anything outside these situations (shutting down, the database away)
 * keeps its problem+json.
 */

/** The situations a seed-compatible route can meet, whatever error raised them. */
export type SeedSituation = 'FLOW_INVALID' | 'REQUEST_INVALID' | 'JSON_INVALID' | 'BODY_TOO_LARGE' | 'NOT_FOUND'

/** An answer: from a one-line account of what is wrong and the issues (when there are any), a status and a body. */
type Answer = (text: string, issues: readonly Issue[]) => readonly [status: number, body: Record<string, unknown>]
export type SeedErrorTable = Readonly<Record<SeedSituation, Answer>>
type Body = (text: string, issues: readonly Issue[]) => Record<string, unknown>

/** The answer `status` with the body `body` builds. */
const answer =
  (status: number, body: Body): Answer =>
  (text, issues) => [status, body(text, issues)]

const SITUATION: Partial<Record<ProblemCode, SeedSituation>> = {
  FLOW_INVALID: 'FLOW_INVALID',
  FLOW_NOT_FOUND: 'NOT_FOUND',
  EXECUTION_NOT_FOUND: 'NOT_FOUND',
  REQUEST_INVALID: 'REQUEST_INVALID',
  INPUT_INVALID: 'REQUEST_INVALID',
  JSON_INVALID: 'JSON_INVALID',
  JSON_TOO_DEEP: 'JSON_INVALID',
  MEDIA_TYPE_UNSUPPORTED: 'JSON_INVALID',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
}

/** Every issue on one line, for the services whose clients read a string. */
const oneLine = (text: string, issues: readonly Issue[]): string =>
  issues.length === 0 ? text : issues.map((i) => `${i.path === '' ? '(flow)' : i.path}: ${i.message}`).join('; ')

/** `/tasks/0/name` → `["body", "tasks", 0, "name"]`, the `loc` of a FastAPI validation error. */
function loc(path: string): (string | number)[] {
  if (path === '') return ['body']
  return ['body', ...path.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~')).map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s))]
}

/** FastAPI's 422 body: `{"detail": [{type, loc, msg}]}`, one entry per issue. */
const fastapiList: Body = (text, issues) => ({
  detail: (issues.length === 0 ? [{ code: 'INVALID_VALUE', path: '', message: text }] : issues).map((i) => ({
    type: i.code === 'MISSING_FIELD' ? 'missing' : i.code.toLowerCase(),
    loc: loc(i.path),
    msg: i.message,
  })),
})
const fastapiText =
  (prefix = ''): Body =>
  (text, issues) => ({ detail: `${prefix}${oneLine(text, issues)}` })

const jsonInvalid = answer(422, (text) => ({ detail: [{ type: 'json_invalid', loc: ['body'], msg: text }] }))

/** The Flask service of POST /flow/execute, GET /flow/status/{id}: `{"error", "details"}`. */
export const FLOW_EXECUTE_ERRORS: SeedErrorTable = {
  FLOW_INVALID: answer(400, (text, issues) => ({ error: 'Invalid flow definition', details: oneLine(text, issues), errors: issues })),
  REQUEST_INVALID: answer(400, (text, issues) => ({ error: 'Invalid request', details: oneLine(text, issues), errors: issues })),
  JSON_INVALID: answer(400, (text) => ({ error: 'No JSON data provided', details: text })),
  BODY_TOO_LARGE: answer(413, (text) => ({ error: 'Request body too large', details: text })),
  NOT_FOUND: answer(404, (text) => ({ error: text })),
}

/** The same service's POST /flow/validate, which answered every refusal as `{"valid": false, "error"}`. */
const invalid: Body = (text, issues) => ({ valid: false, error: oneLine(text, issues), errors: issues })
export const FLOW_VALIDATE_ERRORS: SeedErrorTable = {
  FLOW_INVALID: answer(400, invalid),
  REQUEST_INVALID: answer(400, invalid),
  JSON_INVALID: answer(400, (text) => invalid(`No JSON data provided: ${text}`, [])),
  BODY_TOO_LARGE: answer(413, invalid),
  NOT_FOUND: answer(404, invalid),
}

/** The FastAPI service of /api/v1/flows/…: `{"detail": "Invalid flow definition: …"}`. */
export const API_V1_ERRORS: SeedErrorTable = {
  FLOW_INVALID: answer(400, fastapiText('Invalid flow definition: ')),
  REQUEST_INVALID: answer(422, fastapiList),
  JSON_INVALID: jsonInvalid,
  BODY_TOO_LARGE: answer(413, fastapiText()),
  NOT_FOUND: answer(404, fastapiText()),
}

/** Codes of a flow that is well-formed but refers to a task it does not have. */
const REFERENCE_CODES: ReadonlySet<string> = new Set(['UNKNOWN_START_TASK', 'UNKNOWN_SOURCE_TASK', 'UNKNOWN_TARGET_TASK'])

/**
 * The FastAPI service of POST /run-flow and GET /flows/{flow_run_id}: its model refused a
 * malformed flow with 422 `{"detail": […]}`, its own checks a wrong reference with 400 `{"detail": "…"}`.
 */
export const RUN_FLOW_ERRORS: SeedErrorTable = {
  FLOW_INVALID: (text, issues) => (issues.length > 0 && issues.every((i) => REFERENCE_CODES.has(i.code)) ? [400, fastapiText()(text, issues)] : [422, fastapiList(text, issues)]),
  REQUEST_INVALID: answer(422, fastapiList),
  JSON_INVALID: jsonInvalid,
  BODY_TOO_LARGE: answer(413, fastapiText()),
  NOT_FOUND: answer(404, fastapiText()),
}

/** The FastAPI service with a flow registry (/flows, /flows/execute, /executions/{id}). */
export const REGISTRY_ERRORS: SeedErrorTable = {
  FLOW_INVALID: answer(400, fastapiText('Flow validation error: ')),
  REQUEST_INVALID: answer(422, fastapiList),
  JSON_INVALID: jsonInvalid,
  BODY_TOO_LARGE: answer(413, fastapiText('Context validation error: ')),
  NOT_FOUND: answer(404, fastapiText()),
}

/** A route-level error handler that answers in `table`'s shapes. */
export function seedErrorHandler(table: SeedErrorTable) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const { problem, fault } = toProblem(error)
    const situation = SITUATION[problem.code]
    if (fault || situation === undefined) {
      if (fault) request.log.error({ err: error }, 'request failed with an unexpected error')
      return sendProblem(reply, problem)
    }
    request.log.info({ code: problem.code, situation }, problem.detail)
    const [status, body] = table[situation](problem.detail, problem.errors ?? [])
    return reply.code(status).type('application/json; charset=utf-8').send(body)
  }
}
