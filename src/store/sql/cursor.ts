import { FlowManagerError } from '../../core/errors.js'

/** Opaque paging cursors: base64url JSON of the sort key of the last item on a page. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

export function decodeCursor<T extends readonly (string | number)[]>(cursor: string, shape: readonly ('string' | 'number')[]): T {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    value = undefined
  }
  if (!Array.isArray(value) || value.length !== shape.length || value.some((v, i) => typeof v !== shape[i])) {
    throw new FlowManagerError('INPUT_INVALID', 'cursor is not a cursor this server handed out; pass next_cursor from the previous page')
  }
  return value as unknown as T
}
