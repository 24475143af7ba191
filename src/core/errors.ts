/**
 * Every error that crosses a boundary of Flow Manager carries one of these stable codes.
 * The HTTP status for each lives only at the HTTP edge; the CLI maps them to exit codes.
 */
export const ERROR_CODES = [
  'FLOW_INVALID',
  'FLOW_NOT_FOUND',
  'EXECUTION_NOT_FOUND',
  'EXECUTION_NOT_CANCELLABLE',
  'EXECUTION_NOT_RESUMABLE',
  'EXECUTION_FINISHED',
  'DATA_TOO_LARGE',
  'IDEMPOTENCY_KEY_REUSED',
  'INPUT_INVALID',
  'JSON_INVALID',
  'TEXT_INVALID',
  'FILE_NOT_FOUND',
  'TASK_MODULE_INVALID',
  'TASK_TYPE_DUPLICATE',
  'DATABASE_URL_INVALID',
  'STORE_UNAVAILABLE',
  'SHUTTING_DOWN',
  'INTERNAL',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** One problem found in a flow definition. `path` is a JSON pointer into the document as given. */
export interface Issue {
  readonly code: string
  readonly path: string
  readonly message: string
}

export class FlowManagerError extends Error {
  readonly code: ErrorCode
  readonly issues: readonly Issue[]

  constructor(code: ErrorCode, message: string, options: { issues?: readonly Issue[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'FlowManagerError'
    this.code = code
    this.issues = options.issues ?? []
  }
}

export function isFlowManagerError(error: unknown): error is FlowManagerError {
  return error instanceof FlowManagerError
}
