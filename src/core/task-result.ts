/** What a task run ended with. A failure is data, never an exception that escapes the engine. */
export type TaskResult =
  | { readonly status: 'success'; readonly data?: unknown }
  | { readonly status: 'failure'; readonly error: TaskFailure; readonly data?: unknown }

export interface TaskFailure {
  readonly message: string
  /** A stable code when the engine or the task gives one, e.g. INPUT_INVALID. */
  readonly code?: string
  readonly name?: string
  readonly stack?: string
  /** False when retrying cannot help (e.g. invalid input). */
  readonly retryable?: boolean
}

/** A result together with its data already serialized, so that it is serialized once. */
export interface NormalizedResult {
  readonly result: TaskResult
  /** JSON text of `result.data`, or undefined when there is no data. */
  readonly dataJson: string | undefined
}

const SUCCESS_EMPTY: NormalizedResult = { result: { status: 'success' }, dataJson: undefined }

/**
 * Turns whatever a task returned into a result (the README's "How an execution runs"): `{status, data?, error?}` is taken as
 * it is, other plain data counts as success, and anything that is not JSON is a failure that
 * says what was wrong. `maxBytes` bounds the serialized data.
 */
export function normalizeTaskOutput(value: unknown, maxBytes: number): NormalizedResult {
  if (value === undefined) return SUCCESS_EMPTY
  if (isEnvelope(value)) {
    const serialized = serializeData(value.data, maxBytes)
    if (typeof serialized !== 'string' && serialized !== undefined) return serialized.failure
    if (value.status === 'success') {
      return { result: serialized === undefined ? { status: 'success' } : { status: 'success', data: value.data }, dataJson: serialized }
    }
    const error = toFailure(value.error, 'the task reported failure')
    return {
      result: serialized === undefined ? { status: 'failure', error } : { status: 'failure', error, data: value.data },
      dataJson: serialized,
    }
  }
  const serialized = serializeData(value, maxBytes)
  if (typeof serialized !== 'string' && serialized !== undefined) return serialized.failure
  return { result: { status: 'success', data: value }, dataJson: serialized }
}

function isEnvelope(value: unknown): value is { status: 'success' | 'failure'; data?: unknown; error?: unknown } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const status = (value as { status?: unknown }).status
  return status === 'success' || status === 'failure'
}

function serializeData(data: unknown, maxBytes: number): string | undefined | { failure: NormalizedResult } {
  if (data === undefined) return undefined
  const bad = (message: string, code = 'RESULT_INVALID'): { failure: NormalizedResult } => ({
    failure: { result: { status: 'failure', error: { message, code, retryable: false } }, dataJson: undefined },
  })
  const kind = typeof data
  if (kind === 'function' || kind === 'symbol' || kind === 'bigint') {
    return bad(`the task returned a ${kind}, which is not JSON data; return plain data or {status, data, error}`)
  }
  let json: string | undefined
  try {
    json = JSON.stringify(data)
  } catch (error) {
    return bad(`the task returned data that cannot be stored as JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (json === undefined) return undefined
  // A UTF-16 code unit is 1 to 3 bytes of UTF-8, so only texts in between need counting.
  if (json.length * 3 > maxBytes) {
    const bytes = utf8Length(json)
    // The same code as an input over the limit: one limit (FLOW_MANAGER_DATA_LIMIT), one code.
    if (bytes > maxBytes) return bad(`the task returned ${bytes} bytes of data, over the data limit of ${maxBytes} (FLOW_MANAGER_DATA_LIMIT)`, 'DATA_TOO_LARGE')
  }
  return json
}

/** UTF-8 byte length of a string, without encoding it (a lone surrogate counts 3, as it is encoded). */
function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/** Turns a thrown value or a reported error into a failure record that keeps message and stack. */
export function toFailure(error: unknown, fallback: string): TaskFailure {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    const retryable = (error as { retryable?: unknown }).retryable
    return {
      message: error.message === '' ? fallback : error.message,
      name: error.name,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof retryable === 'boolean' ? { retryable } : {}),
    }
  }
  if (typeof error === 'string') return { message: error === '' ? fallback : error }
  if (error === undefined || error === null) return { message: fallback }
  let text: string
  try {
    text = JSON.stringify(error) ?? typeof error
  } catch {
    text = Object.prototype.toString.call(error)
  }
  return { message: text.length > 2000 ? `${text.slice(0, 2000)}…` : text }
}
