/**
 * Substring search with a worst case linear in the text. V8's own search (includes, indexOf,
 * split) takes time proportional to text × pattern on repetitive input: a 1 MB text of "a"s
 * searched for 10,000 "a"s around one "b" takes seconds, and lastIndexOf is that slow on
 * ordinary input. Expressions use the native search when its worst case is small and this one
 * (Knuth–Morris–Pratt) otherwise; `searchCost` says which and what it costs, in work units.
 */

/** Work units per text × pattern character for the native search's worst case. */
const NATIVE_PER_PAIR = 0.6
/** Work units per character for the linear search below. */
const LINEAR_PER_CHAR = 25

export interface SearchPlan {
  readonly native: boolean
  readonly cost: number
}

export function searchCost(textLength: number, patternLength: number): SearchPlan {
  const native = textLength * patternLength * NATIVE_PER_PAIR
  const linear = (textLength + patternLength) * LINEAR_PER_CHAR
  return native <= linear ? { native: true, cost: native } : { native: false, cost: linear }
}

function failureTable(pattern: string): Int32Array {
  const table = new Int32Array(pattern.length)
  let k = 0
  for (let i = 1; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i)
    while (k > 0 && pattern.charCodeAt(k) !== c) k = table[k - 1] ?? 0
    if (pattern.charCodeAt(k) === c) k++
    table[i] = k
  }
  return table
}

interface Scan {
  /** A match starts only after the previous one ends, as split() cuts. */
  readonly disjoint?: boolean
  /** Stop at the first match. */
  readonly first?: boolean
  /** Ignore matches that start after this index. */
  readonly maxStart?: number
}

/** Every start index of a non-empty `pattern` in `text` at or after `from`, left to right. */
function matches(text: string, pattern: string, from: number, scan: Scan = {}): number[] {
  const maxStart = scan.maxStart ?? Infinity
  const table = failureTable(pattern)
  const m = pattern.length
  const found: number[] = []
  const end = Math.min(text.length, maxStart + m)
  let k = 0
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i)
    while (k > 0 && pattern.charCodeAt(k) !== c) k = table[k - 1] ?? 0
    if (pattern.charCodeAt(k) === c) k++
    if (k === m) {
      const start = i - m + 1
      found.push(start)
      if (scan.first === true) break
      k = scan.disjoint === true ? 0 : (table[k - 1] ?? 0)
    }
  }
  return found
}

/** `text.indexOf(pattern, from)`, in linear time. */
export function indexOfText(text: string, pattern: string, from = 0): number {
  if (pattern === '') return Math.min(Math.max(from, 0), text.length)
  return matches(text, pattern, Math.max(from, 0), { first: true })[0] ?? -1
}

/** `text.lastIndexOf(pattern, from)`, in linear time. */
export function lastIndexOfText(text: string, pattern: string, from = Infinity): number {
  const limit = Math.min(Math.max(from, 0), text.length)
  if (pattern === '') return limit
  const found = matches(text, pattern, 0, { maxStart: limit })
  return found[found.length - 1] ?? -1
}

/** `text.split(separator)` for a non-empty separator, in linear time. */
export function splitText(text: string, separator: string): string[] {
  const pieces: string[] = []
  let start = 0
  for (const at of matches(text, separator, 0, { disjoint: true })) {
    pieces.push(text.slice(start, at))
    start = at + separator.length
  }
  pieces.push(text.slice(start))
  return pieces
}

/** How many pieces `text.split(separator)` gives, for a non-empty separator, in linear time. */
export function countPieces(text: string, separator: string, native: boolean): number {
  if (!native) return matches(text, separator, 0, { disjoint: true }).length + 1
  let count = 1
  for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, at + separator.length)) count++
  return count
}
