/**
 * A failure of the http task: a stable code, and whether running the task again can help. It is
 * an expected outcome, whose message says all there is, so it carries no stack trace into the run.
 */
export class HttpTaskError extends Error {
  readonly code: string
  readonly retryable: boolean

  constructor(code: string, message: string, retryable: boolean, options?: ErrorOptions) {
    super(message, options)
    this.name = 'HttpTaskError'
    this.code = code
    this.retryable = retryable
    delete this.stack
  }
}
