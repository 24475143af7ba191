import type { ErrorCode } from '../core/errors.js'
import { isFlowManagerError } from '../core/errors.js'

/** As the README's command line section says: 0 success, 1 the work failed (or was cancelled), 2 invalid flow or bad usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/**
 * The one place where error codes become exit codes. The compiler insists on an entry for every
 * code, so a new code cannot silently fall through to a wrong exit status.
 * 2 means "what you gave me is wrong" (fix the command, file or flow); 1 means "it was right but
 * did not work" (a database that does not answer, an execution that cannot be cancelled).
 */
const EXIT_CODES = {
  FLOW_INVALID: EXIT.usage,
  FLOW_NOT_FOUND: EXIT.usage,
  EXECUTION_NOT_FOUND: EXIT.usage,
  EXECUTION_NOT_CANCELLABLE: EXIT.failed,
  EXECUTION_NOT_RESUMABLE: EXIT.failed,
  EXECUTION_FINISHED: EXIT.failed,
  DATA_TOO_LARGE: EXIT.usage,
  IDEMPOTENCY_KEY_REUSED: EXIT.usage,
  INPUT_INVALID: EXIT.usage,
  JSON_INVALID: EXIT.usage,
  TEXT_INVALID: EXIT.usage,
  FILE_NOT_FOUND: EXIT.usage,
  TASK_MODULE_INVALID: EXIT.usage,
  TASK_TYPE_DUPLICATE: EXIT.usage,
  DATABASE_URL_INVALID: EXIT.usage,
  STORE_UNAVAILABLE: EXIT.failed,
  SHUTTING_DOWN: EXIT.failed,
  INTERNAL: EXIT.failed,
} as const satisfies Record<ErrorCode, ExitCode>

/** A mistake in how the command was called that has no error code of its own (e.g. two exclusive options). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export function exitCodeFor(error: unknown): ExitCode {
  if (isFlowManagerError(error)) return EXIT_CODES[error.code]
  if (error instanceof UsageError) return EXIT.usage
  return EXIT.failed
}
