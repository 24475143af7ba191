import { compileExpression, ExpressionBudget, toJsonValue, toText, type CompiledExpression, type ExpressionScope } from './expression.js'
import { charge, enter, leave } from './expression-budget.js'

/**
 * Input mapping: in a task's `input`, a string that is exactly `"${expr}"` becomes the value of
 * the CEL expression, and `${expr}` inside a longer string is replaced by its text; `$${` is a
 * literal `${`. Objects and arrays are walked. Compiled once per flow plan, rendered just before
 * each task run from the execution's input and results.
 */
export type InputMapping =
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'value'; readonly expression: CompiledExpression }
  | { readonly kind: 'text'; readonly parts: readonly (string | CompiledExpression)[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, InputMapping])[] }
  | { readonly kind: 'array'; readonly items: readonly InputMapping[] }

/** One expression in a task's input, found where the document holds it. */
export interface InputExpression {
  /** Path segments below the task's `input`. */
  readonly path: readonly (string | number)[]
  readonly source: string
  readonly compiled: CompiledExpression | undefined
  /** Why it does not compile, when it does not. */
  readonly problem: string | undefined
}

type Segment = { readonly text: string } | { readonly source: string }

/** Splits a string into text and `${…}` expressions; braces and quotes inside an expression are respected. */
export function scanTemplate(text: string): { ok: true; segments: Segment[] } | { ok: false; message: string } {
  const segments: Segment[] = []
  let literal = ''
  let i = 0
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${'
      i += 3
      continue
    }
    if (!text.startsWith('${', i)) {
      literal += text[i]
      i++
      continue
    }
    const end = closingBrace(text, i + 2)
    if (end === -1) return { ok: false, message: `"\${" at character ${i} has no closing "}" (write "$\${" for a literal "\${")` }
    if (literal !== '') segments.push({ text: literal })
    literal = ''
    segments.push({ source: text.slice(i + 2, end) })
    i = end + 1
  }
  if (literal !== '') segments.push({ text: literal })
  return { ok: true, segments }
}

function closingBrace(text: string, from: number): number {
  let depth = 0
  let quote: string | null = null
  for (let i = from; i < text.length; i++) {
    const ch = text[i]
    if (quote !== null) {
      if (ch === '\\') i++
      else if (ch === quote) quote = null
    } else if (ch === '"' || ch === "'") {
      quote = ch
    } else if (ch === '{') {
      depth++
    } else if (ch === '}') {
      if (depth === 0) return i
      depth--
    }
  }
  return -1
}

/** Whether a task input holds any `${` (and so is mapped when the task runs). */
export const hasTemplate = (value: unknown, depth = 0): boolean => {
  if (depth > 64) return false
  if (typeof value === 'string') return value.includes('${')
  if (Array.isArray(value)) return value.some((v) => hasTemplate(v, depth + 1))
  if (typeof value === 'object' && value !== null) return Object.values(value).some((v) => hasTemplate(v, depth + 1))
  return false
}

/**
 * Compiles a task's input. `mapping` is undefined when the input holds no `${`, so that a task
 * without mapping passes its input as it is, at no cost. `expressions` lists every expression
 * with its path, for validation.
 */
export function compileInput(input: unknown): { mapping: InputMapping | undefined; expressions: InputExpression[] } {
  const expressions: InputExpression[] = []
  if (!hasTemplate(input)) return { mapping: undefined, expressions }
  const mapping = build(input, [], expressions, 0)
  return { mapping, expressions }
}

function build(value: unknown, path: (string | number)[], found: InputExpression[], depth: number): InputMapping {
  if (typeof value === 'string') {
    if (!value.includes('${')) return { kind: 'literal', value }
    const scanned = scanTemplate(value)
    if (!scanned.ok) {
      found.push({ path, source: value, compiled: undefined, problem: scanned.message })
      return { kind: 'literal', value }
    }
    const compileSegment = (source: string, kind: 'value'): CompiledExpression | undefined => {
      const compiled = compileExpression(source, kind)
      found.push({ path, source, compiled: compiled.ok ? compiled.expression : undefined, problem: compiled.ok ? undefined : compiled.message })
      return compiled.ok ? compiled.expression : undefined
    }
    const only = scanned.segments[0]
    if (scanned.segments.length === 1 && only !== undefined && 'source' in only) {
      const expression = compileSegment(only.source, 'value')
      return expression === undefined ? { kind: 'literal', value } : { kind: 'value', expression }
    }
    const parts: (string | CompiledExpression)[] = []
    for (const segment of scanned.segments) {
      if ('text' in segment) {
        parts.push(segment.text)
        continue
      }
      const expression = compileSegment(segment.source, 'value')
      if (expression === undefined) return { kind: 'literal', value }
      parts.push(expression)
    }
    return { kind: 'text', parts }
  }
  if (depth > 64 || typeof value !== 'object' || value === null) return { kind: 'literal', value }
  if (Array.isArray(value)) return { kind: 'array', items: value.map((v, i) => build(v, [...path, i], found, depth + 1)) }
  return { kind: 'object', entries: Object.entries(value).map(([k, v]) => [k, build(v, [...path, k], found, depth + 1)] as const) }
}

export type Rendered = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string }

/**
 * Evaluates a compiled input against the execution's input and results. Pure; never throws.
 * All its expressions, and the values they give, share one expression budget: an input with
 * thousands of `${…}` is one evaluation, not thousands.
 */
export function renderInput(mapping: InputMapping, scope: ExpressionScope): Rendered {
  const budget = new ExpressionBudget()
  const previous = enter(budget)
  try {
    const rendered = render(mapping, scope, budget)
    return budget.exceeded === undefined ? rendered : { ok: false, message: budget.exceeded }
  } catch (error) {
    if (budget.exceeded !== undefined) return { ok: false, message: budget.exceeded }
    throw error
  } finally {
    leave(previous)
  }
}

function render(mapping: InputMapping, scope: ExpressionScope, budget: ExpressionBudget): Rendered {
  switch (mapping.kind) {
    case 'literal':
      return { ok: true, value: mapping.value }
    case 'value': {
      const evaluated = mapping.expression.evaluate(scope, budget)
      if (!evaluated.ok) return { ok: false, message: `\${${mapping.expression.source}}: ${evaluated.message}` }
      const json = toJsonValue(evaluated.value)
      return json.ok ? json : { ok: false, message: `\${${mapping.expression.source}}: ${json.message}` }
    }
    case 'text': {
      let text = ''
      for (const part of mapping.parts) {
        if (typeof part === 'string') {
          text += part
          continue
        }
        const evaluated = part.evaluate(scope, budget)
        if (!evaluated.ok) return { ok: false, message: `\${${part.source}}: ${evaluated.message}` }
        const piece = toText(evaluated.value)
        if (!piece.ok) return { ok: false, message: `\${${part.source}}: ${piece.message}` }
        charge(0, piece.text.length)
        text += piece.text
      }
      return { ok: true, value: text }
    }
    case 'array': {
      const out: unknown[] = []
      for (const item of mapping.items) {
        const rendered = render(item, scope, budget)
        if (!rendered.ok) return rendered
        out.push(rendered.value)
      }
      return { ok: true, value: out }
    }
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [key, item] of mapping.entries) {
        const rendered = render(item, scope, budget)
        if (!rendered.ok) return rendered
        // defineProperty keeps a "__proto__" key as data, as the flow document had it.
        Object.defineProperty(out, key, { value: rendered.value, enumerable: true, writable: true, configurable: true })
      }
      return { ok: true, value: out }
    }
  }
}
