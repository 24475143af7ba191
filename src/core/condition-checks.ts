import type { Issue } from './errors.js'
import { compileExpression, type ResultReference } from './expression.js'
import { MAX_EXPRESSION_LENGTH } from './flow-schema.js'
import { compileInput } from './input-mapping.js'

type Raw = Record<string, unknown>
const isObject = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value)
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined)

/** Which form a condition takes: exactly one of `outcome`, `when` or `cases`. */
const FORMS = [
  { key: 'outcome', needs: ['target_task_success', 'target_task_failure'] },
  { key: 'when', needs: ['target_task_success', 'target_task_failure'] },
  { key: 'cases', needs: ['default'] },
] as const
const FORM_FIELDS = ['outcome', 'when', 'target_task_success', 'target_task_failure', 'cases', 'default'] as const

/**
 * Checks a condition's form on the raw document: `outcome` or `when` with both targets, or `cases`
 * with `default`, never a mix. A condition with none of the three misses `outcome`, as in the seed
 * format. Field types are zod's business; only presence is judged here.
 */
export function checkConditionForm(condition: Raw, at: (...rel: (string | number)[]) => string, label: string, errors: Issue[]): void {
  const present = FORMS.filter((f) => condition[f.key] !== undefined)
  const form = present[0] ?? FORMS[0]
  for (const other of present.slice(1)) {
    errors.push({
      code: 'CONFLICTING_FIELDS',
      path: at(other.key),
      message: `${label} has both "${form.key}" and "${other.key}"; a condition takes exactly one of outcome, when or cases`,
    })
  }
  if (present.length === 0) {
    errors.push({ code: 'MISSING_FIELD', path: at('outcome'), message: `required field "outcome" is missing (or route on data with "when" or "cases")` })
  }
  const needed: readonly string[] = form.needs
  for (const key of form.needs) {
    if (condition[key] === undefined) errors.push({ code: 'MISSING_FIELD', path: at(key), message: `required field "${key}" is missing: ${label} uses "${form.key}"` })
  }
  for (const key of FORM_FIELDS) {
    if (key === form.key || needed.includes(key) || condition[key] === undefined) continue
    if (present.some((p) => p.key === key)) continue
    const why = form.key === 'cases' ? 'with "cases", the next task is each case\'s "target" or "default"' : '"default" belongs to "cases"'
    errors.push({ code: 'CONFLICTING_FIELDS', path: at(key), message: `${label} uses "${form.key}", so "${key}" has no meaning: ${why}` })
  }
}

/** Targets a condition names (besides target_task_success/failure): each case's target and the default. */
export function caseTargets(condition: Raw): { rel: (string | number)[]; target: string }[] {
  const out: { rel: (string | number)[]; target: string }[] = []
  if (Array.isArray(condition.cases)) {
    condition.cases.forEach((c: unknown, j) => {
      const target = isObject(c) ? str(c.target) : undefined
      if (target !== undefined) out.push({ rel: ['cases', j, 'target'], target })
    })
  }
  const fallback = str(condition.default)
  if (fallback !== undefined) out.push({ rel: ['default'], target: fallback })
  return out
}

/** An expression of the flow, where it is, and what it reads. */
export interface FoundExpression {
  /** Path segments from the flow object. */
  readonly rel: readonly (string | number)[]
  readonly source: string
  /** The task before which (input) or after which (condition) it is evaluated. */
  readonly task: string | undefined
  readonly at: 'condition' | 'input'
  readonly references: readonly ResultReference[]
}

/**
 * Compiles every expression of a raw flow document (conditions' `when`, cases, task inputs),
 * reporting EXPRESSION_INVALID with its path, and UNKNOWN_RESULT_REFERENCE for `results.X` where
 * X is not a task. Returns the expressions that compiled, for the graph checks.
 */
export function checkExpressions(doc: Raw, at: (...rel: (string | number)[]) => string, taskNames: ReadonlySet<string>, errors: Issue[]): FoundExpression[] {
  const found: FoundExpression[] = []
  const consider = (rel: (string | number)[], source: string, task: string | undefined, where: 'condition' | 'input', problem: string | undefined, references: readonly ResultReference[]): void => {
    if (problem !== undefined) {
      errors.push({ code: 'EXPRESSION_INVALID', path: at(...rel), message: `the expression ${quote(source)} is invalid: ${problem}` })
      return
    }
    for (const ref of references) {
      if (!taskNames.has(ref.task)) {
        errors.push({
          code: 'UNKNOWN_RESULT_REFERENCE',
          path: at(...rel),
          message: `the expression ${quote(source)} reads results.${ref.task}, but the flow has no task "${ref.task}" (tasks: ${[...taskNames].slice(0, 10).join(', ')})`,
        })
      }
    }
    found.push({ rel, source, task, at: where, references })
  }
  const conditions = Array.isArray(doc.conditions) ? (doc.conditions as unknown[]) : []
  conditions.forEach((condition, i) => {
    if (!isObject(condition)) return
    const task = str(condition.source_task)
    // Empty or over-long expressions in conditions are the schema's to report.
    const judged = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_EXPRESSION_LENGTH
    if (judged(condition.when)) {
      const compiled = compileExpression(condition.when, 'bool')
      consider(['conditions', i, 'when'], condition.when, task, 'condition', compiled.ok ? undefined : compiled.message, compiled.ok ? compiled.expression.references : [])
    }
    if (Array.isArray(condition.cases)) {
      condition.cases.forEach((c: unknown, j) => {
        if (!isObject(c) || !judged(c.when)) return
        const compiled = compileExpression(c.when, 'bool')
        consider(['conditions', i, 'cases', j, 'when'], c.when, task, 'condition', compiled.ok ? undefined : compiled.message, compiled.ok ? compiled.expression.references : [])
      })
    }
  })
  const tasks = Array.isArray(doc.tasks) ? (doc.tasks as unknown[]) : []
  tasks.forEach((task, i) => {
    if (!isObject(task)) return
    if (typeof task.for_each === 'string' && task.for_each.length > 0 && task.for_each.length <= MAX_EXPRESSION_LENGTH) {
      const compiled = compileExpression(task.for_each, 'value')
      consider(['tasks', i, 'for_each'], task.for_each, str(task.name), 'input', compiled.ok ? undefined : compiled.message, compiled.ok ? compiled.expression.references : [])
    }
    if (!isObject(task.input)) return
    const name = str(task.name)
    for (const e of compileInput(task.input).expressions) {
      consider(['tasks', i, 'input', ...e.path], e.source, name, 'input', e.problem, e.compiled?.references ?? [])
    }
  })
  return found
}

const quote = (source: string): string => JSON.stringify(source.length > 80 ? `${source.slice(0, 80)}…` : source)
