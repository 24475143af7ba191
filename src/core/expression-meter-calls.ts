import { charge } from './expression-budget.js'
import { COST, HEADER, SLOT } from './expression-costs.js'
import { keysWork } from './expression-data.js'
import { countPieces, indexOfText, lastIndexOfText, searchCost, splitText } from './text-search.js'

/**
 * Metering of function and method calls (see expression-meter.ts): each is charged from the sizes
 * of its arguments before it runs. String searches and splits run here, with cel-js's semantics,
 * natively or in linear time (text-search.ts).
 */

type Handle = (...args: unknown[]) => unknown

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** Work and memory of `size()`, `string()`, `bytes()` and the conversions, by their argument. */
function sizedArgument(name: string, arg: unknown): void {
  if (typeof arg === 'string') {
    const n = arg.length
    if (name === 'size') charge(COST.stringSize * n, 0)
    else if (name === 'bytes') charge(COST.bytesChar * n, HEADER + 3 * n)
    else if (name === 'duration') charge(COST.durationChar * n, 0)
    else if (name === 'double' || name === 'int' || name === 'uint') charge(COST.charMap * n, 0)
  } else if (arg instanceof Uint8Array && name === 'string') {
    charge(COST.bytesChar * arg.length, HEADER + arg.length)
  }
}

export function functionCall(name: string, original: Handle): Handle {
  return (args: unknown, ast: unknown, ev: unknown) => {
    const list = args as unknown[]
    sizedArgument(name, list[0])
    const result = original(args, ast, ev)
    if (name === 'size' && isPlainObject(list[0])) charge(keysWork(Number(result)), 0)
    return result
  }
}

export function methodCall(name: string, original: Handle): Handle {
  return (args: unknown, ev: unknown, ast: unknown) => {
    const [receiver, first, second] = args as unknown[]
    if (typeof receiver === 'string') {
      const own = stringMethod(name, receiver, first, second)
      if (own !== undefined) return own.value
    } else if (Array.isArray(receiver) && name === 'join') {
      chargeJoin(receiver, first)
    } else if (receiver instanceof Uint8Array) {
      const n = receiver.length
      const memory = name === 'hex' ? 2 * n : name === 'base64' ? 2 * n : name === 'json' ? 4 * n : name === 'string' ? n : 0
      charge((name === 'json' ? COST.jsonChar : COST.bytesChar) * n, memory === 0 ? 0 : HEADER + memory)
    } else if (receiver instanceof Date && typeof first === 'string') {
      charge(COST.timeZone, 0)
    }
    const result = original(args, ev, ast)
    if (name === 'size' && isPlainObject(receiver)) charge(keysWork(Number(result)), 0)
    return result
  }
}

function chargeJoin(list: unknown[], separator: unknown): void {
  let chars = 0
  for (const item of list) if (typeof item === 'string') chars += item.length
  if (typeof separator === 'string') chars += separator.length * Math.max(0, list.length - 1)
  charge(COST.joinElement * list.length + chars, HEADER + chars)
}

/**
 * String methods whose cost depends on the text. Searches run here, natively or in linear time
 * (see text-search.ts), with cel-js's own semantics; undefined leaves the call to cel-js.
 */
function stringMethod(name: string, text: string, first: unknown, second: unknown): { value: unknown } | undefined {
  const n = text.length
  switch (name) {
    case 'size':
      charge(COST.stringSize * n, 0)
      return undefined
    case 'lowerAscii':
    case 'upperAscii':
    case 'trim':
      charge(COST.charMap * n, HEADER + n)
      return undefined
    case 'startsWith':
    case 'endsWith':
      if (typeof first === 'string') charge(first.length, 0)
      return undefined
    case 'contains':
    case 'indexOf':
    case 'lastIndexOf':
      if (typeof first !== 'string') return undefined
      return search(name, text, first, second)
    case 'split':
      if (typeof first !== 'string') return undefined
      return split(text, first, second)
    default:
      return undefined
  }
}

function search(name: string, text: string, pattern: string, from: unknown): { value: unknown } | undefined {
  const plan = searchCost(text.length, pattern.length)
  charge(plan.cost, 0)
  if (plan.native) return undefined
  // With a start index cel-js checks the range first; those calls keep its checks and messages.
  if (from !== undefined) {
    const start = Number(from)
    if (pattern === '' || start < 0 || start >= text.length) return undefined
    return { value: BigInt(name === 'indexOf' ? indexOfText(text, pattern, start) : lastIndexOfText(text, pattern, start)) }
  }
  if (name === 'contains') return { value: indexOfText(text, pattern) !== -1 }
  return { value: BigInt(name === 'indexOf' ? indexOfText(text, pattern) : lastIndexOfText(text, pattern)) }
}

function split(text: string, separator: string, limit: unknown): { value: unknown } | undefined {
  const n = text.length
  if (separator === '') {
    charge(COST.splitChar * n, HEADER + (SLOT + HEADER + 1) * n)
    return undefined
  }
  const plan = searchCost(n, separator.length)
  charge(plan.cost, 0)
  const pieces = countPieces(text, separator, plan.native)
  charge(COST.splitPiece * pieces + n, HEADER + (SLOT + HEADER) * pieces + n)
  if (plan.native) return undefined
  const parts = splitText(text, separator)
  if (limit === undefined) return { value: parts }
  // cel-js's split(separator, limit): at most `limit` pieces, the last one holding the rest.
  const l = Number(limit)
  if (l === 0) return { value: [] }
  if (l < 0 || parts.length <= l) return { value: parts }
  return { value: [...parts.slice(0, l - 1), parts.slice(l - 1).join(separator)] }
}
