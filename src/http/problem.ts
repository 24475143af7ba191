import { ERROR_CODES, type ErrorCode, type Issue } from '../core/errors.js'

/**
 * Codes that exist only at the HTTP edge: the framework's own refusals. They live here, beside the
 * engine's codes, so that every error response carries a stable `code` from one list.
 */
export const HTTP_ERROR_CODES = [
  'REQUEST_INVALID',
  'REQUEST_TIMEOUT',
  'JSON_TOO_DEEP',
  'BODY_TOO_LARGE',
  'MEDIA_TYPE_UNSUPPORTED',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'UNAUTHORIZED',
] as const
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number]
export type ProblemCode = ErrorCode | HttpErrorCode

/** The one table of HTTP statuses; the compiler insists that every code has one. */
export const STATUS = {
  FLOW_INVALID: 422,
  FLOW_NOT_FOUND: 404,
  EXECUTION_NOT_FOUND: 404,
  EXECUTION_NOT_CANCELLABLE: 409,
  EXECUTION_NOT_RESUMABLE: 409,
  EXECUTION_FINISHED: 409,
  DATA_TOO_LARGE: 413,
  IDEMPOTENCY_KEY_REUSED: 409,
  INPUT_INVALID: 400,
  JSON_INVALID: 400,
  TEXT_INVALID: 400,
  // The next four belong to the CLI and to startup; reaching a client they mean a fault of ours.
  FILE_NOT_FOUND: 500,
  TASK_MODULE_INVALID: 500,
  TASK_TYPE_DUPLICATE: 500,
  DATABASE_URL_INVALID: 500,
  STORE_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
  REQUEST_INVALID: 400,
  REQUEST_TIMEOUT: 408,
  JSON_TOO_DEEP: 400,
  BODY_TOO_LARGE: 413,
  MEDIA_TYPE_UNSUPPORTED: 415,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNAUTHORIZED: 401,
} as const satisfies Record<ProblemCode, number>

const TITLES = {
  FLOW_INVALID: 'The flow is invalid',
  FLOW_NOT_FOUND: 'No such flow',
  EXECUTION_NOT_FOUND: 'No such execution',
  EXECUTION_NOT_CANCELLABLE: 'The execution cannot be cancelled',
  EXECUTION_NOT_RESUMABLE: 'The execution cannot be resumed',
  EXECUTION_FINISHED: 'The execution has finished',
  DATA_TOO_LARGE: 'The data is too large',
  IDEMPOTENCY_KEY_REUSED: 'The idempotency key was used for another request',
  INPUT_INVALID: 'The input is invalid',
  JSON_INVALID: 'The body is not valid JSON',
  TEXT_INVALID: 'Text must be valid Unicode without NUL',
  FILE_NOT_FOUND: 'Internal server error',
  TASK_MODULE_INVALID: 'Internal server error',
  TASK_TYPE_DUPLICATE: 'Internal server error',
  DATABASE_URL_INVALID: 'Internal server error',
  STORE_UNAVAILABLE: 'The database is unavailable',
  SHUTTING_DOWN: 'The server is shutting down',
  INTERNAL: 'Internal server error',
  REQUEST_INVALID: 'The request is invalid',
  REQUEST_TIMEOUT: 'The request took too long to arrive',
  JSON_TOO_DEEP: 'The JSON body is nested too deeply',
  BODY_TOO_LARGE: 'The body is too large',
  MEDIA_TYPE_UNSUPPORTED: 'Unsupported media type',
  ROUTE_NOT_FOUND: 'No such route',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  UNAUTHORIZED: 'Missing or wrong API key',
} as const satisfies Record<ProblemCode, string>

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'

/** An RFC 9457 problem document as Flow Manager sends it. */
export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly code: ProblemCode
  readonly errors?: readonly Issue[]
}

/** A stable, non-dereferenceable type URI per code (RFC 9457 allows URNs). */
export const problemType = (code: ProblemCode): string => `urn:flow-manager:problem:${code.toLowerCase().replaceAll('_', '-')}`

export function problem(code: ProblemCode, detail: string, errors?: readonly Issue[]): Problem {
  return {
    type: problemType(code),
    title: TITLES[code],
    status: STATUS[code],
    detail,
    code,
    ...(errors === undefined ? {} : { errors }),
  }
}

const ALL_CODES: ReadonlySet<string> = new Set<string>([...ERROR_CODES, ...HTTP_ERROR_CODES])
export const isProblemCode = (code: unknown): code is ProblemCode => typeof code === 'string' && ALL_CODES.has(code)

/** An error raised inside src/http that maps straight to a problem. */
export class HttpProblemError extends Error {
  constructor(
    readonly code: ProblemCode,
    message: string,
    readonly issues?: readonly Issue[],
  ) {
    super(message)
    this.name = 'HttpProblemError'
  }
}
