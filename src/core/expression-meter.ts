import type { ASTNode } from '@marcbachmann/cel-js'
import { charge, chargeCaught, exhausted, remainingWork } from './expression-budget.js'
import { COST, ENTRY, HEADER, SLOT } from './expression-costs.js'
import { keysWork, walkWork } from './expression-data.js'
import { functionCall, methodCall } from './expression-meter-calls.js'
import { isNumber, jsonArithmetic, numbersEqual } from './expression-numbers.js'

/**
 * Metering of one compiled expression. cel-js has no evaluation budget of its own, so after an
 * expression is type-checked, each node whose cost depends on the data gets a wrapper around the
 * operation cel-js chose for it: the wrapper charges the work and the memory the operation will
 * take, from the sizes of its operands, before it runs, so that nothing large is built past the
 * budget. Operations whose cost does not depend on the data are not wrapped: outside a
 * comprehension the tree (at most 200 nodes) bounds them, and a comprehension pays for its body
 * once per element before it starts. Errors that cel-js catches and goes on from (in `||`, `&&`,
 * `exists()`, `all()`) are charged where they are caught, since each costs microseconds.
 *
 * The costs are in units of about a nanosecond, measured on this evaluator with margin. This
 * relies on cel-js internals (a checked node's `handle`, `meta`, comprehension arguments); the
 * dependency is pinned, and `instrument` refuses a tree whose shape it does not know, so an
 * upgrade that changes them fails the tests rather than running unmetered.
 */

type Handle = (...args: unknown[]) => unknown
type Evaluate = (ev: unknown, ast: unknown, ctx: unknown) => unknown

/** What metering relies on in a checked cel-js 8 node. */
interface Node {
  readonly op: string
  readonly args: unknown
  /** Set by type checking. */
  readonly checkedType?: { readonly name: string }
  readonly meta: { readonly alternate?: Node; readonly macro?: { readonly evaluate: Evaluate }; readonly evaluate: Evaluate }
  handle?: Handle
  evaluate: Evaluate
}

interface ComprehensionArgs {
  readonly iterable: Node
  readonly init: Node
  readonly step: Node
  readonly kind?: string
  /** For quantifiers: whether to go on with the next element. */
  condition?: (accu: unknown) => boolean
}

const isObjectValue = (v: unknown): v is object => typeof v === 'object' && v !== null
const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (!isObjectValue(v)) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function children(node: Node): Node[] {
  const alternate = node.meta.alternate
  if (alternate !== undefined) return [alternate]
  const args = node.args as never
  switch (node.op) {
    case 'value':
    case 'id':
    case 'accuValue':
    case 'accuInc':
      return []
    case 'accuPush':
    case '!_':
    case '-_':
      return [args]
    case '.':
    case '.?':
      return [(args as [Node, string])[0]]
    case 'call':
      return node.meta.macro === undefined ? [...(args as [string, Node[]])[1]] : []
    case 'rcall':
      return node.meta.macro === undefined ? [(args as [string, Node, Node[]])[1], ...(args as [string, Node, Node[]])[2]] : []
    case 'map':
      return (args as [Node, Node][]).flat()
    case 'comprehension': {
      const c = args as ComprehensionArgs
      return [c.iterable, c.init, c.step]
    }
    default:
      return [...(args as Node[])]
  }
}

function size(node: Node): number {
  let n = 1
  for (const child of children(node)) n += size(child)
  return n
}

/** The node's evaluation, as cel-js would run it, without its self-replacing first call. */
function evaluation(node: Node): Evaluate {
  const { alternate, macro, evaluate } = node.meta
  if (alternate !== undefined) return (ev, _ast, ctx) => alternate.evaluate(ev, alternate, ctx)
  if (macro !== undefined) return (ev, _ast, ctx) => macro.evaluate(ev, macro, ctx)
  return (ev, _ast, ctx) => evaluate(ev, node, ctx)
}

/** Charges each error that passes through `node` on its way to a catch that goes on. */
function chargeErrors(node: Node, errorCost: number): void {
  const { alternate, macro, evaluate } = node.meta
  if (alternate !== undefined || macro !== undefined) {
    const inner = evaluation(node)
    node.evaluate = (ev, ast, ctx) => {
      try {
        return inner(ev, ast, ctx)
      } catch (error) {
        chargeCaught(error, errorCost)
        throw error
      }
    }
    return
  }
  // The common case, without a second closure: this runs on every evaluation of `a && b`.
  node.evaluate = (ev, _ast, ctx) => {
    try {
      return evaluate(ev, node, ctx)
    } catch (error) {
      chargeCaught(error, errorCost)
      throw error
    }
  }
}

/** Types for which `==` can involve neither two numbers nor two lists or maps. */
const PLAIN_TYPES: ReadonlySet<string> = new Set(['string', 'bool', 'null', 'bytes', 'google.protobuf.Timestamp', 'google.protobuf.Duration', 'type'])

/** Whether either operand of `==` is known, from type checking, to be a string, a bool, null… */
function plainComparison(node: Node): boolean {
  return (node.args as Node[]).some((operand) => PLAIN_TYPES.has(operand.checkedType?.name ?? 'dyn'))
}

function wrap(node: Node, make: (original: Handle) => Handle): void {
  const original = node.handle
  if (typeof original !== 'function') throw new Error(`cannot meter the "${node.op}" node: cel-js internals changed`)
  node.handle = make(original)
}

const RESERVED_KEYS: ReadonlySet<unknown> = new Set(['constructor', '__proto__', 'prototype'])

/**
 * A map literal that keeps every key. cel-js drops the keys `constructor`, `__proto__` and
 * `prototype` from map literals (it builds a plain object), which would lose data mapped into a
 * task input; a literal that has or may have such a key builds a Map instead, which keeps them.
 */
function keepAllKeys(node: Node): void {
  const entries = node.args as [Node, Node][]
  if (!entries.some(([k]) => k.op !== 'value' || RESERVED_KEYS.has(k.args))) return
  node.evaluate = (ev, _ast, ctx) => {
    const pairs = entries.map(([k, v]): [unknown, unknown] => [k.evaluate(ev, k, ctx), v.evaluate(ev, v, ctx)])
    charge(0, HEADER + ENTRY * pairs.length)
    if (pairs.some(([k]) => RESERVED_KEYS.has(k))) return new Map(pairs)
    const out: Record<string, unknown> = {}
    for (const [k, v] of pairs) out[String(k)] = v
    return out
  }
}

/** Wraps every node of a type-checked expression whose cost depends on the data. */
export function instrument(root: ASTNode, sourceLength: number): void {
  const errorCost = COST.error + COST.errorPerSourceChar * sourceLength
  // `inBody`: the node is in a comprehension's body, so it runs once per element.
  const visit = (node: Node, inBody: boolean): void => {
    const body = node.op === 'comprehension' ? (node.args as ComprehensionArgs).step : undefined
    for (const child of children(node)) visit(child, inBody || child === body)
    if (node.meta.alternate !== undefined) return
    switch (node.op) {
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
        wrap(node, (original) => arithmetic(node.op, original))
        return
      case '==':
      case '!=':
        // `status == 'success'` compares neither numbers nor collections: no wrapper, no cost.
        if (!plainComparison(node)) wrap(node, (original) => equality(node.op === '==', original))
        return
      case 'in':
        wrap(node, membership)
        return
      case '||':
      case '&&':
        // Outside a comprehension each node runs once, so the tree bounds the errors absorbed there.
        if (inBody) chargeErrors((node.args as [Node, Node])[0], errorCost)
        return
      case 'map':
        keepAllKeys(node)
        return
      case 'call':
        if (node.meta.macro === undefined) wrap(node, (original) => functionCall((node.args as [string])[0], original))
        return
      case 'rcall':
        if (node.meta.macro === undefined) wrap(node, (original) => methodCall((node.args as [string])[0], original))
        return
      case 'comprehension': {
        const args = node.args as ComprehensionArgs
        if (args.kind === 'quantifier') {
          chargeErrors(args.step, errorCost)
          // exists() and all() go on after an error; once the budget is spent they stop instead.
          const goOn = args.condition
          args.condition = (accu) => !exhausted() && (goOn === undefined || goOn(accu))
        }
        const perElement = COST.element + COST.node * size(args.step)
        wrap(node, (original) => comprehension(perElement, args.kind !== 'quantifier', original))
        return
      }
      default:
        return
    }
  }
  visit(root as unknown as Node, false)
}

function arithmetic(op: string, original: Handle): Handle {
  return (l: unknown, r: unknown, ast: unknown, ev: unknown) => {
    if (isNumber(l) && isNumber(r)) return jsonArithmetic(op, l, r)
    if (op === '+') {
      if (typeof l === 'string' && typeof r === 'string') charge(0, HEADER + l.length + r.length)
      else if (Array.isArray(l) && Array.isArray(r)) charge(COST.listCopy * (l.length + r.length), HEADER + SLOT * (l.length + r.length))
      else if (l instanceof Uint8Array && r instanceof Uint8Array) charge(l.length + r.length, HEADER + l.length + r.length)
    }
    return original(l, r, ast, ev)
  }
}

function equality(equal: boolean, original: Handle): Handle {
  return (l: unknown, r: unknown, ast: unknown, ev: unknown) => {
    if (isNumber(l) && isNumber(r)) return numbersEqual(l, r) === equal
    if (isObjectValue(l) && isObjectValue(r) && l !== r) {
      // The comparison stops at the smaller side: charge that, found without walking further
      // (and without walking the right side at all when the left one is already too much).
      const remaining = remainingWork()
      const left = walkWork(l, remaining)
      charge(left >= remaining ? left : walkWork(r, left), 0)
    }
    return original(l, r, ast, ev)
  }
}

const membership: (original: Handle) => Handle = (original) =>
  (l: unknown, r: unknown, ast: unknown, ev: unknown) => {
    if (Array.isArray(r)) {
      const perItem = isObjectValue(l) ? COST.listMember + walkWork(l, remainingWork()) : COST.listMember
      charge(perItem * r.length, 0)
    }
    return original(l, r, ast, ev)
  }

function comprehension(perElement: number, collects: boolean, original: Handle): Handle {
  return (items: unknown, args: unknown, ev: unknown, ctx: unknown) => {
    let list = items
    if (items instanceof Map) list = [...items.keys()]
    else if (items instanceof Set) list = [...items]
    else if (isPlainObject(items)) {
      const keys = Object.keys(items)
      charge(keysWork(keys.length), HEADER + SLOT * keys.length)
      list = keys
    }
    if (Array.isArray(list)) charge(perElement * list.length, collects ? HEADER + SLOT * list.length : 0)
    return original(list, args, ev, ctx)
  }
}

