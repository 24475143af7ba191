/**
 * Text that every store keeps as it is: valid Unicode without NUL. PostgreSQL refuses NUL in text
 * and turns a lone surrogate into U+FFFD, SQLite keeps both, so such text is refused where it
 * comes in, the same whatever the store.
 */

export interface InvalidText {
  /** Path segments from the value checked to the offending key or string. */
  readonly path: readonly (string | number)[]
  /** Whether the offending text is a key or a value. */
  readonly in: 'key' | 'value'
  readonly why: string
}

// String.prototype.isWellFormed exists from Node 20 (ES2024), beyond the ES2023 library we type against.
const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed()

/** Why a string cannot be stored, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\0')) return 'contains a NUL character (\\u0000)'
  if (!wellFormed(text)) return 'contains a lone surrogate (half of a UTF-16 pair), which is not valid Unicode'
  return undefined
}

interface Frame {
  readonly items: readonly unknown[]
  /** The keys of an object, in the order of `items`; undefined for an array. */
  readonly keys: readonly string[] | undefined
  index: number
  readonly parent: Frame | undefined
}

function pathOf(frame: Frame | undefined, last: string | number): (string | number)[] {
  const path: (string | number)[] = [last]
  for (let f = frame; f !== undefined; f = f.parent) {
    const at = f.parent
    if (at === undefined) break
    const i = at.index - 1
    path.unshift(at.keys === undefined ? i : (at.keys[i] ?? ''))
  }
  return path
}

function frameOf(value: unknown, parent: Frame | undefined): Frame | undefined {
  if (Array.isArray(value)) return { items: value, keys: undefined, index: 0, parent }
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value)
    return { items: keys.map((k) => (value as Record<string, unknown>)[k]), keys, index: 0, parent }
  }
  return undefined
}

/**
 * The first key or string in a JSON value that cannot be stored; undefined when there is none.
 * One pass, without recursion (the value may be deep) and with one record per array or object.
 */
export function findInvalidText(value: unknown): InvalidText | undefined {
  if (typeof value === 'string') {
    const why = textProblem(value)
    return why === undefined ? undefined : { path: [], in: 'value', why }
  }
  let frame = frameOf(value, undefined)
  while (frame !== undefined) {
    if (frame.index >= frame.items.length) {
      frame = frame.parent
      continue
    }
    const i = frame.index++
    const key = frame.keys === undefined ? i : (frame.keys[i] ?? '')
    if (typeof key === 'string') {
      const why = textProblem(key)
      if (why !== undefined) return { path: pathOf(frame, key), in: 'key', why }
    }
    const item = frame.items[i]
    if (typeof item === 'string') {
      const why = textProblem(item)
      if (why !== undefined) return { path: pathOf(frame, key), in: 'value', why }
    } else {
      frame = frameOf(item, frame) ?? frame
    }
  }
  return undefined
}
