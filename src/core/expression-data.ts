import { charge } from './expression-budget.js'

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Estimated bytes of a value's own record, beyond its characters or slots. */
const HEADER = 16

/** Work units per value visited when data is walked (copied, measured, compared). */
export const NODE_WORK = 50

/**
 * Work units for listing the keys of an object with `keys` keys. V8 keeps an object of more than
 * about a thousand keys (as JSON.parse makes them) as a dictionary, and listing those costs
 * about a microsecond per key instead of a few nanoseconds.
 */
export function keysWork(keys: number): number {
  return keys > 1000 ? 1000 * keys : NODE_WORK * keys
}

/** Work units to walk a value (as a deep comparison does), counted until `cap` is reached. */
export function walkWork(value: unknown, cap: number): number {
  let work = 0
  const stack: unknown[] = [value]
  while (stack.length > 0 && work < cap) {
    const v = stack.pop()
    work += NODE_WORK
    const items = Array.isArray(v) ? v : v instanceof Map ? [...v.values()] : typeof v === 'object' && v !== null && isPlainObject(v) ? Object.values(v) : undefined
    if (items === undefined) continue
    if (!Array.isArray(v)) work += keysWork(items.length)
    for (const item of items) {
      if (typeof item === 'object' && item !== null) stack.push(item)
      else work += NODE_WORK
    }
  }
  return work
}

/** Defines a key as data: `__proto__` stays a key, never a prototype. */
function put(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
}

/**
 * Turns what an expression gave into JSON data for a task's input: CEL integers (BigInt) become
 * numbers, timestamps ISO text, maps objects; bytes, durations and types are refused with a hint.
 * The copy is charged to the active expression budget.
 */
export function toJsonValue(value: unknown, depth = 0): { ok: true; value: unknown } | { ok: false; message: string } {
  if (depth > 64) return { ok: false, message: 'the value is nested too deeply' }
  charge(NODE_WORK, typeof value === 'string' ? HEADER + value.length : HEADER)
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return { ok: true, value }
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      return { ok: false, message: `the integer ${value.toString()} is too large for JSON; convert it with string()` }
    }
    return { ok: true, value: Number(value) }
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { ok: true, value } : { ok: false, message: `${String(value)} is not a JSON number` }
  }
  if (value instanceof Date) return { ok: true, value: value.toISOString() }
  if (Array.isArray(value)) {
    charge(0, 8 * value.length)
    const out: unknown[] = []
    for (const item of value) {
      const converted = toJsonValue(item, depth + 1)
      if (!converted.ok) return converted
      out.push(converted.value)
    }
    return { ok: true, value: out }
  }
  if (value instanceof Map) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of value) {
      const converted = toJsonValue(v, depth + 1)
      if (!converted.ok) return converted
      put(out, String(k), converted.value)
    }
    return { ok: true, value: out }
  }
  if (typeof value === 'object') {
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {}
      const entries = Object.entries(value)
      charge(keysWork(entries.length), 0)
      for (const [k, v] of entries) {
        const converted = toJsonValue(v, depth + 1)
        if (!converted.ok) return converted
        charge(0, 8 + k.length)
        put(out, k, converted.value)
      }
      return { ok: true, value: out }
    }
    const kind = (value as { constructor?: { name?: unknown } }).constructor?.name
    return { ok: false, message: `a ${typeof kind === 'string' ? kind : 'value'} is not JSON data; convert it with string()` }
  }
  return { ok: false, message: `a ${typeof value} is not JSON data` }
}

/** How an interpolated value reads inside a string: strings as they are, other values as JSON. */
export function toText(value: unknown): { ok: true; text: string } | { ok: false; message: string } {
  if (typeof value === 'string') return { ok: true, text: value }
  const converted = toJsonValue(value)
  if (!converted.ok) return converted
  const text = JSON.stringify(converted.value)
  charge(text.length, HEADER + text.length)
  return { ok: true, text }
}

/**
 * Data as cel-js can read it whatever its keys. cel-js looks at `value.constructor` to tell a map
 * from a list, so an object with its own `constructor` key ({"constructor": "x"}) is an
 * "unsupported type" to it. Such objects become Maps, with copies of the arrays and objects that
 * lead to them; everything else is shared. Returns the value itself when nothing needed a change.
 * Charged to the active budget, since it walks the data.
 */
export function plainData(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 256) return value
  charge(NODE_WORK, 0)
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      const plain = plainData(item, depth + 1)
      if (plain !== item) {
        copy ??= value.slice()
        copy[i] = plain
      }
    }
    return copy ?? value
  }
  if (!isPlainObject(value)) return value
  const entries = Object.entries(value)
  charge(keysWork(entries.length), 0)
  const own = Object.hasOwn(value, 'constructor')
  let changed = own
  const plainEntries = entries.map(([k, v]): [string, unknown] => {
    const plain = plainData(v, depth + 1)
    if (plain !== v) changed = true
    return [k, plain]
  })
  if (!changed) return value
  charge(0, HEADER + 24 * entries.length)
  if (own) return new Map(plainEntries)
  const out: Record<string, unknown> = {}
  for (const [k, v] of plainEntries) put(out, k, v)
  return out
}
