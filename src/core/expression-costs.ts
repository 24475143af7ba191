import { NODE_WORK } from './expression-data.js'

/**
 * What operations cost in an expression budget (expression-budget.ts). Work is in units of about
 * a nanosecond of this evaluator, measured on the operations below with a margin; memory in
 * estimated bytes. `npx tsx bench/expression-budget-bench.ts` shows how long expressions built to
 * use the whole budget take, for recalibrating after a change of cel-js or of Node.
 */
export const COST = {
  /** Each node of a comprehension body, per element, and each element itself. */
  node: NODE_WORK,
  element: 100,
  /** An error cel-js creates and then absorbs: a stack trace and a formatted excerpt of the source. */
  error: 20_000,
  errorPerSourceChar: 25,
  listCopy: 30,
  listMember: 60,
  stringSize: 20,
  charMap: 3,
  joinElement: 40,
  splitChar: 10,
  splitPiece: 30,
  timeZone: 20_000,
  bytesChar: 5,
  jsonChar: 30,
  durationChar: 100,
} as const

/** Estimated bytes of a new string, list or map, of one slot of a list, of one entry of a map. */
export const HEADER = 16
export const SLOT = 8
export const ENTRY = 24
