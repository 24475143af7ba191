import { Environment, type ASTNode } from '@marcbachmann/cel-js'
import { MAX_EXPRESSION_LENGTH } from './flow-schema.js'

/**
 * CEL expressions over an execution's `input` and `results`. Nothing here is ever evaluated as
 * JavaScript: cel-js interprets its own AST. Cost is bounded by construction, checked when the
 * expression is compiled (which validation does before anything runs):
 * - the source is at most 2,000 characters, its AST at most 200 nodes and 32 levels deep;
 * - `matches()` is refused (a JavaScript regular expression can take exponential time);
 * - `cel.bind()` is refused (binding a list and concatenating it with itself doubles it per level);
 * - a comprehension (`all`, `exists`, `exists_one`, `map`, `filter`) may not contain or range over
 *   another one, and its body may use only its own variable and literals, not `input` or `results`.
 * So each AST node does work at most linear in the size of the data it sees, and the whole
 * evaluation is at most (AST size)² × (data size), with no loop and no recursion of its own.
 * Anything an evaluation throws (a missing key, a type mismatch, a string over V8's limit) is
 * caught and returned as a message.
 */
export const EXPRESSION_LIMITS = { maxLength: MAX_EXPRESSION_LENGTH, maxAstNodes: 200, maxDepth: 32, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 8 } as const

const env = new Environment({
  unlistedVariablesAreDyn: false,
  homogeneousAggregateLiterals: false,
  limits: {
    maxAstNodes: EXPRESSION_LIMITS.maxAstNodes,
    maxDepth: EXPRESSION_LIMITS.maxDepth,
    maxListElements: EXPRESSION_LIMITS.maxListElements,
    maxMapEntries: EXPRESSION_LIMITS.maxMapEntries,
    maxCallArguments: EXPRESSION_LIMITS.maxCallArguments,
  },
})
  .registerVariable('input', 'dyn')
  .registerVariable('results', 'map')
  .registerVariable('item', 'dyn')
  .registerVariable('index', 'int')

/** An earlier task's latest result, as expressions see it under `results.<task>`. */
export interface ResultView {
  readonly status: 'success' | 'failure'
  readonly data: unknown
  readonly error: string | null
}

/** What an expression can read: the execution input and the results of the tasks that ran. */
export interface ExpressionScope {
  readonly input: unknown
  readonly results: Readonly<Record<string, ResultView | undefined>>
  /** In the input of a for_each task's item run: the item and its index. */
  readonly item?: unknown
  readonly index?: number
}

/** A `results.<task>` reference in an expression; `guarded` when the expression tests `has(results.<task>)`. */
export interface ResultReference {
  readonly task: string
  readonly guarded: boolean
}

export type Evaluation = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string }

export interface CompiledExpression {
  readonly source: string
  readonly references: readonly ResultReference[]
  /** Never throws: every evaluator error becomes `{ok: false, message}`. */
  evaluate(scope: ExpressionScope): Evaluation
}

export type CompileResult = { readonly ok: true; readonly expression: CompiledExpression } | { readonly ok: false; readonly message: string }

/** `bool` for conditions (the type must be able to be a boolean), `value` for input mapping. */
export type ExpressionKind = 'bool' | 'value'

const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter'])
const CACHE_LIMIT = 5000
const cache = new Map<string, CompileResult>()

/**
 * Parses, type-checks and vets an expression once; the result is cached by source, so that
 * validating a flow and compiling its plan parse each expression once between them.
 */
export function compileExpression(source: string, kind: ExpressionKind): CompileResult {
  const key = `${kind}:${source}`
  const cached = cache.get(key)
  if (cached !== undefined) return cached
  const compiled = compile(source, kind)
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string)
  cache.set(key, compiled)
  return compiled
}

function compile(source: string, kind: ExpressionKind): CompileResult {
  if (source.length > EXPRESSION_LIMITS.maxLength) {
    return { ok: false, message: `the expression is ${source.length} characters long; at most ${EXPRESSION_LIMITS.maxLength} are allowed` }
  }
  if (source.trim() === '') return { ok: false, message: 'the expression is empty' }
  let parsed: ReturnType<typeof env.parse>
  try {
    parsed = env.parse(source)
  } catch (error) {
    return { ok: false, message: `it does not parse: ${summary(error)}` }
  }
  const vetted = vet(parsed.ast)
  if (typeof vetted === 'string') return { ok: false, message: vetted }
  let checked: ReturnType<typeof parsed.check>
  try {
    checked = parsed.check()
  } catch (error) {
    return { ok: false, message: summary(error) }
  }
  if (!checked.valid) return { ok: false, message: summary(checked.error) }
  if (kind === 'bool' && checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, message: `a condition must be true or false, but this expression gives a ${checked.type ?? 'value'}` }
  }
  const run = parsed
  const expression: CompiledExpression = {
    source,
    references: vetted,
    evaluate(scope) {
      try {
        const value: unknown = run(
          scope.index === undefined ? { input: scope.input, results: scope.results } : { input: scope.input, results: scope.results, item: scope.item, index: BigInt(scope.index) },
        )
        return { ok: true, value }
      } catch (error) {
        return { ok: false, message: summary(error) }
      }
    },
  }
  return { ok: true, expression }
}

/** The first line of an error's message: cel-js appends a source excerpt that paths already give. */
function summary(error: unknown): string {
  if (error instanceof Error) {
    const withSummary = (error as { summary?: unknown }).summary
    const text = typeof withSummary === 'string' && withSummary !== '' ? withSummary : error.message
    return text.split('\n')[0] ?? text
  }
  return String(error)
}

interface Walk {
  readonly references: ResultReference[]
  readonly guarded: Set<string>
}

/** Applies the cost rules above; returns the `results.<task>` references or the reason for refusing. */
function vet(ast: ASTNode): ResultReference[] | string {
  const walk: Walk = { references: [], guarded: new Set() }
  const problem = visit(ast, walk, null)
  if (problem !== undefined) return problem
  return walk.references.map((r) => (walk.guarded.has(r.task) ? { task: r.task, guarded: true } : r))
}

/** `comprehension` is the name of the comprehension whose body or range we are in, if any. */
function visit(node: ASTNode, walk: Walk, comprehension: string | null): string | undefined {
  switch (node.op) {
    case 'value':
      return undefined
    case 'id':
      if (comprehension !== null && (node.args === 'input' || node.args === 'results')) {
        return `inside ${comprehension}() only its own variable and literals may be used, not "${node.args}": read the value outside the comprehension, or compare with a literal (this keeps evaluation linear in the data)`
      }
      return undefined
    case '.':
    case '.?': {
      const [target, field] = node.args
      if (target.op === 'id' && target.args === 'results') walk.references.push({ task: field, guarded: false })
      return visit(target, walk, comprehension)
    }
    case '[]':
    case '[?]': {
      const [target, index] = node.args
      if (target.op === 'id' && target.args === 'results' && index.op === 'value' && typeof index.args === 'string') {
        walk.references.push({ task: index.args, guarded: false })
      }
      return visit(target, walk, comprehension) ?? visit(index, walk, comprehension)
    }
    case 'call': {
      const [name, args] = node.args
      if (name === 'matches') return MATCHES_REFUSED
      if (name === 'has') {
        const arg = args[0]
        const task = arg === undefined ? undefined : resultTaskOf(arg)
        if (task !== undefined) walk.guarded.add(task)
      }
      return visitAll(args, walk, comprehension)
    }
    case 'rcall': {
      const [name, receiver, args] = node.args
      if (name === 'matches') return MATCHES_REFUSED
      if (name === 'bind' && receiver.op === 'id' && receiver.args === 'cel') {
        return 'cel.bind() is not available: a bound value used twice can double in size at every level; write the sub-expression out'
      }
      if (COMPREHENSIONS.has(name)) {
        if (comprehension !== null) {
          return `${name}() inside ${comprehension}() is not allowed: nested or chained comprehensions can take time that grows with the product of list sizes`
        }
        return visit(receiver, walk, name) ?? visitAll(args, walk, name)
      }
      return visit(receiver, walk, comprehension) ?? visitAll(args, walk, comprehension)
    }
    case 'list':
      return visitAll(node.args, walk, comprehension)
    case 'map': {
      for (const [k, v] of node.args) {
        const problem = visit(k, walk, comprehension) ?? visit(v, walk, comprehension)
        if (problem !== undefined) return problem
      }
      return undefined
    }
    case '?:':
      return visitAll(node.args, walk, comprehension)
    case '!_':
    case '-_':
      return visit(node.args, walk, comprehension)
    default:
      return visitAll(node.args, walk, comprehension)
  }
}

const MATCHES_REFUSED =
  'matches() is not available: a regular expression can take exponential time on hostile input; use contains(), startsWith() or endsWith()'

function visitAll(nodes: readonly ASTNode[], walk: Walk, comprehension: string | null): string | undefined {
  for (const n of nodes) {
    const problem = visit(n, walk, comprehension)
    if (problem !== undefined) return problem
  }
  return undefined
}

/** `X` for `results.X`, `results.X.…` or `results["X"]…`. */
function resultTaskOf(node: ASTNode): string | undefined {
  let current: ASTNode = node
  for (;;) {
    if (current.op === '.' || current.op === '.?') {
      const [target, field] = current.args
      if (target.op === 'id' && target.args === 'results') return field
      current = target
    } else if (current.op === '[]' || current.op === '[?]') {
      const [target, index] = current.args
      if (target.op === 'id' && target.args === 'results') return index.op === 'value' && typeof index.args === 'string' ? index.args : undefined
      current = target
    } else {
      return undefined
    }
  }
}

/**
 * Turns what an expression gave into JSON data for a task's input: CEL integers (BigInt) become
 * numbers, timestamps ISO text; bytes, durations and types are refused with a hint.
 */
export function toJsonValue(value: unknown, depth = 0): { ok: true; value: unknown } | { ok: false; message: string } {
  if (depth > 64) return { ok: false, message: 'the value is nested too deeply' }
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
      Object.defineProperty(out, String(k), { value: converted.value, enumerable: true, writable: true, configurable: true })
    }
    return { ok: true, value: out }
  }
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) {
        const converted = toJsonValue(v, depth + 1)
        if (!converted.ok) return converted
        Object.defineProperty(out, k, { value: converted.value, enumerable: true, writable: true, configurable: true })
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
  return { ok: true, text: JSON.stringify(converted.value) }
}
