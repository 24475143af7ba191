import type { z } from 'zod'
import type { Issue } from './errors.js'
import { caseTargets, checkConditionForm, checkExpressions, type FoundExpression } from './condition-checks.js'
import { constantInputIssues, type InputIssue } from './constant-input-checks.js'
import { CaseSchema, ConditionSchema, END, FlowSchema, OUTCOMES, RESERVED_FLOW_IDS, RetrySchema, TaskSchema, type Flow } from './flow-schema.js'
import { pointer } from './json-pointer.js'
import { analyseGraph } from './flow-graph-checks.js'
import { checkBranches } from './branch-checks.js'
import { closest, knownList } from './suggest.js'
import { findInvalidText } from './text-check.js'

/** What validation needs to know about the task registry: which task types exist, and what input each takes. */
export interface TaskTypeLookup {
  has(type: string): boolean
  names(): readonly string[]
  /** What the type finds wrong in an input as written; only problems no mapping can change are reported. */
  inputIssues?(type: string, input: unknown): readonly InputIssue[]
}

export interface ParseFlowOptions {
  /** When given, a task whose type is not registered is an error (or a warning, see below). */
  readonly taskTypes?: TaskTypeLookup
  /**
   * What a task type missing from `taskTypes` is. Default `error`. With `warning` the flow is
   * accepted and that task fails when it runs (TASK_TYPE_NOT_REGISTERED), as the services the
   * seed-compatible routes stand in for behaved.
   */
  readonly unregisteredTypes?: 'error' | 'warning'
}

export type ParseFlowResult =
  | { readonly ok: true; readonly flow: Flow; readonly warnings: readonly Issue[] }
  | { readonly ok: false; readonly errors: readonly Issue[]; readonly warnings: readonly Issue[] }

type Raw = Record<string, unknown>

const isObject = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const FLOW_KEYS = Object.keys(FlowSchema.shape)
const TASK_KEYS = Object.keys(TaskSchema.shape)
const CONDITION_KEYS = Object.keys(ConditionSchema.shape)
const RETRY_KEYS = Object.keys(RetrySchema.shape)
const CASE_KEYS = Object.keys(CaseSchema.shape)
/** Beyond this many tasks, "did you mean" hints are skipped so that validation stays linear. */
const HINT_LIMIT = 2000

/**
 * Parses and validates a flow document: a bare flow or a `{"flow": …}` envelope.
 * Every problem is reported at once, each with a stable code and a JSON pointer into `json`.
 */
export function parseFlow(json: unknown, options: ParseFlowOptions = {}): ParseFlowResult {
  const errors: Issue[] = []
  if (!isObject(json)) {
    errors.push({ code: 'INVALID_TYPE', path: '', message: `a flow must be a JSON object, got ${describeType(json)}` })
    return { ok: false, errors, warnings: [] }
  }
  let doc: unknown = json
  let base: (string | number)[] = []
  if (Object.hasOwn(json, 'flow')) {
    doc = json.flow
    base = ['flow']
    for (const key of Object.keys(json)) {
      if (key !== 'flow') {
        errors.push({ code: 'UNKNOWN_KEY', path: pointer([key]), message: `unknown key "${key}" beside "flow" in the envelope` })
      }
    }
    if (!isObject(doc)) {
      errors.push({ code: 'INVALID_TYPE', path: '/flow', message: `"flow" must be a JSON object, got ${describeType(doc)}` })
      return { ok: false, errors, warnings: [] }
    }
  }
  const badText = findInvalidText(doc)
  if (badText !== undefined) {
    errors.push({
      code: 'TEXT_INVALID',
      path: pointer([...base, ...badText.path]),
      message: `this ${badText.in === 'key' ? 'key' : 'text'} ${badText.why}; text must be valid Unicode without NUL, so that every store keeps it as it is`,
    })
  }
  const parsed = FlowSchema.safeParse(doc)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) errors.push(...fromZodIssue(issue, doc, base))
  }
  const typeWarnings: Issue[] = []
  const expressions = checkReferences(doc as Raw, base, options, errors, options.unregisteredTypes === 'warning' ? typeWarnings : errors)
  if (errors.length > 0 || !parsed.success) return { ok: false, errors, warnings: typeWarnings }
  const flow = keepInputKeys(parsed.data, doc as Raw)
  return { ok: true, flow, warnings: [...typeWarnings, ...analyseGraph(flow, base, expressions)] }
}

/**
 * zod's record parsing drops a `__proto__` key (safely: it never sets a prototype), which would
 * silently lose part of a task's input. Task inputs are plain JSON, so they are copied from the
 * document as they are: `Object.fromEntries` defines own properties, so `__proto__` stays data.
 */
function keepInputKeys(flow: Flow, doc: Raw): Flow {
  const rawTasks = doc.tasks as unknown[]
  if (!flow.tasks.some((_, i) => hasProtoKey(valueAt(rawTasks, [i, 'input'])))) return flow
  const tasks = flow.tasks.map((task, i) => {
    const raw = valueAt(rawTasks, [i, 'input'])
    return hasProtoKey(raw) ? { ...task, input: Object.fromEntries(Object.entries(raw)) } : task
  })
  return { ...flow, tasks }
}

const hasProtoKey = (value: unknown): value is Raw => isObject(value) && Object.hasOwn(value, '__proto__')

function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined
    if (!Object.hasOwn(current, segment)) return undefined
    current = (current as Record<PropertyKey, unknown>)[segment]
  }
  return current
}

function allowedKeysAt(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return FLOW_KEYS
  if (path.length === 2 && path[0] === 'tasks') return TASK_KEYS
  if (path.length === 2 && path[0] === 'conditions') return CONDITION_KEYS
  if (path.length === 3 && path[0] === 'tasks' && path[2] === 'retry') return RETRY_KEYS
  if (path.length === 4 && path[0] === 'conditions' && path[2] === 'cases') return CASE_KEYS
  return []
}

function fromZodIssue(issue: z.core.$ZodIssue, doc: unknown, base: readonly (string | number)[]): Issue[] {
  const rel = issue.path.filter((s): s is string | number => typeof s !== 'symbol')
  const path = pointer([...base, ...rel])
  const field = fieldLabel(rel)
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(rel)
      return issue.keys.map((key) => {
        const hint = closest(key, allowed)
        return {
          code: 'UNKNOWN_KEY',
          path: pointer([...base, ...rel, key]),
          message: `unknown key "${key}"${hint === undefined ? '' : ` (did you mean "${hint}"?)`}; allowed: ${allowed.join(', ')}`,
        }
      })
    }
    case 'invalid_type': {
      const value = valueAt(doc, rel)
      if (value === undefined) {
        return [{ code: 'MISSING_FIELD', path, message: `required field ${field} is missing` }]
      }
      return [{ code: 'INVALID_TYPE', path, message: `${field} must be ${article(issue.expected)}, got ${describeType(value)}` }]
    }
    case 'too_small':
      if (issue.origin === 'string' && (rel[rel.length - 1] === 'when' || rel[rel.length - 1] === 'for_each')) {
        return [{ code: 'EXPRESSION_INVALID', path, message: `${field} must not be empty: give a CEL expression` }]
      }
      if (issue.origin === 'string') return [{ code: 'EMPTY_NAME', path, message: `${field} must not be empty` }]
      if (issue.origin === 'array' && rel[rel.length - 1] === 'tasks') return [{ code: 'NO_TASKS', path, message: 'a flow needs at least one task' }]
      if (issue.origin === 'array') return [{ code: 'INVALID_VALUE', path, message: `${field} needs at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}` }]
      return [{ code: 'INVALID_VALUE', path, message: `${field} must be at least ${String(issue.minimum)}` }]
    case 'too_big':
      return [{ code: 'TOO_LARGE', path, message: `${field} must be at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters long' : ''}` }]
    case 'invalid_value':
      // zod reports a missing enum field as a bad value; it is a missing field.
      if (valueAt(doc, rel) === undefined) return [{ code: 'MISSING_FIELD', path, message: `required field ${field} is missing` }]
      if (rel[rel.length - 1] === 'outcome') {
        const given = valueAt(doc, rel)
        const hint = typeof given === 'string' ? closest(given, OUTCOMES) : undefined
        return [{ code: 'INVALID_OUTCOME', path, message: `outcome must be "success" or "failure", got ${JSON.stringify(given)}${hint === undefined ? '' : ` (did you mean "${hint}"?)`}` }]
      }
      return [{ code: 'INVALID_VALUE', path, message: `${field}: ${issue.message}` }]
    default:
      return [{ code: 'INVALID_VALUE', path, message: `${field}: ${issue.message}` }]
  }
}

/** `"name"` for a field, `item 0 of "tasks"` for an array element. */
function fieldLabel(rel: readonly (string | number)[]): string {
  const last = rel[rel.length - 1]
  if (last === undefined) return 'the flow'
  if (typeof last === 'number') return `item ${last} of "${String(rel[rel.length - 2] ?? '')}"`
  return `"${last}"`
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer'
  if (expected === 'record') return 'an object'
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined)

/** Cross-references between names: checked on whatever parts of the document are well-formed. */
function checkReferences(doc: Raw, base: readonly (string | number)[], options: ParseFlowOptions, errors: Issue[], typeIssues: Issue[]): FoundExpression[] {
  const at = (...rel: (string | number)[]): string => pointer([...base, ...rel])
  const tasks = Array.isArray(doc.tasks) ? (doc.tasks as unknown[]) : []
  const conditions = Array.isArray(doc.conditions) ? (doc.conditions as unknown[]) : []
  const taskIndex = new Map<string, number>()

  const id = str(doc.id)
  if (id !== undefined && (RESERVED_FLOW_IDS as readonly string[]).includes(id)) {
    errors.push({ code: 'RESERVED_FLOW_ID', path: at('id'), message: `flow id "${id}" is reserved (it is a route segment: ${RESERVED_FLOW_IDS.join(', ')})` })
  }
  tasks.forEach((task, i) => {
    if (!isObject(task)) return
    const name = str(task.name)
    if (name === undefined) return
    if (name === END) {
      errors.push({ code: 'RESERVED_TASK_NAME', path: at('tasks', i, 'name'), message: `task name "${END}" is reserved: it ends the flow` })
    }
    const first = taskIndex.get(name)
    if (first !== undefined) {
      errors.push({ code: 'DUPLICATE_TASK', path: at('tasks', i, 'name'), message: `task name "${name}" is already used by task ${first}` })
    } else {
      taskIndex.set(name, i)
    }
    const types = options.taskTypes
    const type = task.type === undefined ? name : str(task.type)
    // A task named "end" without a type has one problem, its name, not also an unknown type.
    if (name === END && task.type === undefined) return
    // A parallel group runs no code of its own, so it needs no task type.
    if (types !== undefined && type !== undefined && task.parallel === undefined && !types.has(type)) {
      const field = task.type === undefined ? 'name' : 'type'
      const hint = closest(type, types.names())
      const consequence = typeIssues === errors ? '' : '; the task fails with TASK_TYPE_NOT_REGISTERED when it runs'
      typeIssues.push({
        code: 'UNKNOWN_TASK_TYPE',
        path: at('tasks', i, field),
        message: `task "${name}" needs task type "${type}", which is not registered${hint === undefined ? '' : ` (did you mean "${hint}"?)`}${consequence}; registered: ${knownList([...types.names()].sort())}`,
      })
    } else if (types?.inputIssues !== undefined && type !== undefined && isObject(task.input)) {
      const label = type === name ? `task "${name}"` : `task "${name}" (type "${type}")`
      errors.push(...constantInputIssues(task.input, types.inputIssues(type, task.input), label, (...rel) => at('tasks', i, 'input', ...rel)))
    }
  })
  const taskNames = [...taskIndex.keys()]
  const unknown = (kind: string, value: string): string => {
    const hint = taskNames.length <= HINT_LIMIT ? closest(value, taskNames) : undefined
    return `${kind} "${value}"${hint === undefined ? '' : ` (did you mean "${hint}"?)`} (known: ${taskNames.length === 0 ? 'none' : knownList(taskNames)})`
  }

  const start = str(doc.start_task)
  if (start !== undefined && !taskIndex.has(start)) {
    errors.push({ code: 'UNKNOWN_START_TASK', path: at('start_task'), message: `start_task names ${unknown('unknown task', start)}` })
  }
  const conditionNames = new Map<string, number>()
  const sources = new Map<string, number>()
  conditions.forEach((condition, i) => {
    if (!isObject(condition)) return
    const name = str(condition.name)
    const label = name === undefined ? `condition ${i}` : `condition "${name}"`
    if (name !== undefined) {
      const first = conditionNames.get(name)
      if (first !== undefined) {
        errors.push({ code: 'DUPLICATE_CONDITION', path: at('conditions', i, 'name'), message: `condition name "${name}" is already used by condition ${first}` })
      } else {
        conditionNames.set(name, i)
      }
    }
    const source = str(condition.source_task)
    if (source !== undefined) {
      if (!taskIndex.has(source)) {
        errors.push({ code: 'UNKNOWN_SOURCE_TASK', path: at('conditions', i, 'source_task'), message: `${label} has source_task ${unknown('unknown task', source)}` })
      }
      const first = sources.get(source)
      if (first !== undefined) {
        errors.push({
          code: 'DUPLICATE_SOURCE_TASK',
          path: at('conditions', i, 'source_task'),
          message: `${label} decides after task "${source}", but condition ${first} already does; a task has at most one condition`,
        })
      } else {
        sources.set(source, i)
      }
    }
    checkConditionForm(condition, (...rel) => at('conditions', i, ...rel), label, errors)
    const targets = caseTargets(condition)
    for (const key of ['target_task_success', 'target_task_failure'] as const) {
      const target = str(condition[key])
      if (target !== undefined) targets.push({ rel: [key], target })
    }
    for (const { rel, target } of targets) {
      if (target !== END && !taskIndex.has(target)) {
        errors.push({ code: 'UNKNOWN_TARGET_TASK', path: at('conditions', i, ...rel), message: `${label} routes to ${unknown('unknown task', target)}` })
      }
    }
  })
  checkBranches(doc, at, taskIndex, errors)
  return checkExpressions(doc, at, new Set(taskIndex.keys()), errors)
}
