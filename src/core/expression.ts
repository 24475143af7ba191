import { Environment } from '@marcbachmann/cel-js'
import { enter, ExpressionBudget, leave } from './expression-budget.js'
import { plainData } from './expression-data.js'
import { instrument } from './expression-meter.js'
import { registerJsonNumbers } from './expression-numbers.js'
import { vet, type ResultReference } from './expression-vet.js'
import { MAX_EXPRESSION_LENGTH } from './flow-schema.js'

export { ExpressionBudget } from './expression-budget.js'
export { toJsonValue, toText } from './expression-data.js'
export type { ResultReference } from './expression-vet.js'

/**
 * CEL expressions over an execution's `input` and `results`. Nothing here is ever evaluated as
 * JavaScript: cel-js interprets its own AST. Cost is bounded twice:
 * - by shape, when the expression is compiled (which validation does before anything runs): the
 *   source is at most 2,000 characters, its AST at most 200 nodes and 32 levels deep, and the
 *   rules of expression-vet.ts keep the work of each node linear in the data it sees;
 * - by a budget, while it runs: each evaluation (a condition's decision, one task's input
 *   mapping) may do about 100 ms of work and build 10 MiB of intermediate values
 *   (expression-budget.ts, expression-meter.ts). Past either it fails like any other error.
 * Anything an evaluation throws (a missing key, a type mismatch) is caught and returned as a message.
 */
export const EXPRESSION_LIMITS = { maxLength: MAX_EXPRESSION_LENGTH, maxAstNodes: 200, maxDepth: 32, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 8 } as const

const env = registerJsonNumbers(
  new Environment({
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
    .registerVariable('index', 'int'),
)

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

export type Evaluation = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string }

export interface CompiledExpression {
  readonly source: string
  readonly references: readonly ResultReference[]
  /**
   * Never throws: every evaluator error becomes `{ok: false, message}`. `budget` is the account
   * to charge; expressions that decide together (a condition's cases) share one. Default: a
   * fresh one for this evaluation.
   */
  evaluate(scope: ExpressionScope, budget?: ExpressionBudget): Evaluation
}

export type CompileResult = { readonly ok: true; readonly expression: CompiledExpression } | { readonly ok: false; readonly message: string }

/** `bool` for conditions (the type must be able to be a boolean), `value` for input mapping. */
export type ExpressionKind = 'bool' | 'value'

/** The budget of an evaluation that is given none: evaluation is synchronous, so one object serves all. */
const ownBudget = new ExpressionBudget()

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
  instrument(parsed.ast, source.length)
  const run = parsed
  // A for_each item run's input also reads `item` and `index`.
  const variables = (scope: ExpressionScope): Record<string, unknown> =>
    scope.index === undefined ? { input: scope.input, results: scope.results } : { input: scope.input, results: scope.results, item: scope.item, index: BigInt(scope.index) }
  const attempt = (scope: ExpressionScope, budget: ExpressionBudget): Evaluation => {
    try {
      const value: unknown = run(variables(scope))
      return budget.exceeded === undefined ? { ok: true, value } : { ok: false, message: budget.exceeded }
    } catch (error) {
      return { ok: false, message: budget.exceeded ?? summary(error) }
    }
  }
  const expression: CompiledExpression = {
    source,
    references: vetted.references,
    evaluate(scope, given) {
      const budget = given ?? ownBudget.reset()
      const previous = enter(budget)
      try {
        let first: Evaluation
        try {
          const value: unknown = run(variables(scope))
          if (budget.exceeded === undefined) return { ok: true, value }
          return { ok: false, message: budget.exceeded }
        } catch (error) {
          first = { ok: false, message: budget.exceeded ?? summary(error) }
        }
        if (budget.exceeded !== undefined) return first
        // Data with a `constructor` key trips cel-js ("unsupported type"); such data is rare, so
        // it is converted only after an evaluation failed, and the expression runs again on the
        // converted data (when there was any to convert). Evaluation has no effects, and CEL
        // absorbs an error only when the answer does not depend on it, so a first run that
        // succeeded would have given the same answer.
        const plain = plainScope(scope, vetted.references, vetted.readsAnyResult)
        if (budget.exceeded !== undefined) return { ok: false, message: budget.exceeded }
        return plain === undefined ? first : attempt(plain, budget)
      } finally {
        leave(previous)
      }
    },
  }
  return { ok: true, expression }
}

/** The scope with data that has `constructor` keys made readable, or undefined when none has. */
function plainScope(scope: ExpressionScope, references: readonly ResultReference[], anyResult: boolean): ExpressionScope | undefined {
  try {
    const input = plainData(scope.input)
    let results: Record<string, ResultView | undefined> | undefined
    const names = anyResult ? Object.keys(scope.results) : references.map((r) => r.task)
    for (const name of names) {
      const view = Object.hasOwn(scope.results, name) ? scope.results[name] : undefined
      if (view === undefined) continue
      const data = plainData(view.data)
      if (data === view.data) continue
      results ??= Object.assign(Object.create(null) as Record<string, ResultView | undefined>, scope.results)
      Object.defineProperty(results, name, { value: { ...view, data }, enumerable: true, writable: true, configurable: true })
    }
    if (input === scope.input && results === undefined) return undefined
    const plain = { input, results: results ?? scope.results }
    return scope.index === undefined ? plain : { ...plain, item: plainData(scope.item), index: scope.index }
  } catch {
    // Only the budget throws here; the caller reports it.
    return undefined
  }
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
