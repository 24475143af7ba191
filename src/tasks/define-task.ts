import { z } from 'zod'
import { FlowManagerError } from '../core/errors.js'
import type { InputIssue } from '../core/constant-input-checks.js'
import type { TaskTypeLookup } from '../core/parse-flow.js'
import { closest } from '../core/suggest.js'
import type { TaskFailure } from '../core/task-result.js'

type LogFn = { (obj: object, msg?: string): void; (msg: string): void }
/** The logging surface tasks and the engine use; a pino logger fits it. */
export interface Logger {
  readonly debug: LogFn
  readonly info: LogFn
  readonly warn: LogFn
  readonly error: LogFn
  child(bindings: Record<string, unknown>): Logger
}

/** An earlier task's latest result, as later tasks see it. */
export interface TaskResultView {
  readonly status: 'success' | 'failure'
  readonly data: unknown
  readonly error: string | null
}

/** What a task's `run` receives besides its input. */
export interface TaskContext {
  readonly executionId: string
  readonly flowId: string
  /** The task's name in the flow (not its type). */
  readonly taskName: string
  /** 1 for the first attempt; a task run that is cut off by a crash runs again with the next attempt. */
  readonly attempt: number
  /** `${executionId}:${taskName}:${step}`: the same for a re-run of a task run that was interrupted. */
  readonly idempotencyKey: string
  /** The execution's input (the task's own input is the first argument of `run`). */
  readonly flowInput: unknown
  /** Earlier results by task name; a task that ran several times shows its latest run. */
  readonly results: Readonly<Record<string, TaskResultView | undefined>>
  /** Aborted when the execution is cancelled or the process shuts down; pass it on to I/O. */
  readonly signal: AbortSignal
  readonly logger: Logger
}

/** A registered implementation; make one with `defineTask`. */
export interface TaskType {
  readonly name: string
  readonly description: string
  /** Checked before `run` is called; a mismatch fails the task run with code INPUT_INVALID. */
  readonly input: z.ZodType | undefined
  /**
   * Runs one task run. Return plain data (success), `{status, data?, error?}`, or throw (failure).
   * Everything returned must be JSON. The input has passed `input` when there is one.
   */
  run(input: unknown, context: TaskContext): unknown
}

export interface TaskDefinition<S extends z.ZodType | undefined> {
  readonly name: string
  readonly description: string
  readonly input?: S
  run(input: S extends z.ZodType ? z.output<S> : unknown, context: TaskContext): unknown
}

/** Declares a task type. Nothing is registered: pass the result to `createTaskRegistry`. */
export function defineTask<S extends z.ZodType | undefined = undefined>(definition: TaskDefinition<S>): TaskType {
  if (typeof definition.name !== 'string' || definition.name.length === 0) {
    throw new FlowManagerError('TASK_MODULE_INVALID', 'defineTask needs a non-empty name')
  }
  if (typeof definition.run !== 'function') {
    throw new FlowManagerError('TASK_MODULE_INVALID', `task type "${definition.name}" needs a run(input, context) function`)
  }
  return {
    name: definition.name,
    description: definition.description,
    input: definition.input,
    // The registry checks the input against `input` before calling run, which makes this narrowing safe.
    run: definition.run.bind(definition),
  }
}

/** An error a task can throw to say that running it again cannot help. */
export class NonRetryableError extends Error {
  readonly retryable = false
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'NonRetryableError'
  }
}

export interface TaskRegistry extends TaskTypeLookup {
  get(type: string): TaskType | undefined
  list(): readonly TaskType[]
}

/** An explicit registry of task types; a name registered twice is an error, not a silent override. */
export function createTaskRegistry(types: readonly TaskType[]): TaskRegistry {
  const byName = new Map<string, TaskType>()
  for (const type of types) {
    if (byName.has(type.name)) {
      throw new FlowManagerError('TASK_TYPE_DUPLICATE', `task type "${type.name}" is registered twice`)
    }
    byName.set(type.name, type)
  }
  const names = [...byName.keys()]
  return {
    get: (type) => byName.get(type),
    has: (type) => byName.has(type),
    names: () => names,
    list: () => [...byName.values()],
    inputIssues: (name, input) => {
      const schema = byName.get(name)?.input
      if (schema === undefined) return []
      try {
        const parsed = schema.safeParse(input)
        return parsed.success ? [] : parsed.error.issues.flatMap((issue) => toInputIssues(issue, input))
      } catch {
        // A user's refinement that throws on unexpected input: left to the check before the run.
        return []
      }
    },
  }
}

function toInputIssues(issue: z.core.$ZodIssue, input: unknown): InputIssue[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol')
  const missing = issue.code === 'invalid_type' && path.length > 0 && !hasPath(input, path)
  if (missing) return [{ path, message: `required field "${String(path[path.length - 1])}" is missing${misspelled(input, path)}`, about: 'value' }]
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"`, about: 'key' }))
  if (issue.code === 'invalid_key') return [{ path, message: `key "${String(path[path.length - 1])}": ${issue.issues[0]?.message ?? issue.message}`, about: 'key' }]
  // A custom check can say that a key's presence, not its value, is wrong (params: {about: 'key'}).
  const about = issue.code === 'custom' && (issue.params as { about?: unknown } | undefined)?.about === 'key' ? 'key' : 'value'
  return [{ path, message: issue.message, about }]
}

/** A hint when the input holds a key like the missing one: ` (the input has "msec": did you mean "ms"?)`. */
function misspelled(input: unknown, path: readonly (string | number)[]): string {
  const field = path[path.length - 1]
  if (typeof field !== 'string') return ''
  let parent = input
  for (const segment of path.slice(0, -1)) {
    if (typeof parent !== 'object' || parent === null || !Object.hasOwn(parent, segment)) return ''
    parent = (parent as Record<string | number, unknown>)[segment]
  }
  const keys = typeof parent === 'object' && parent !== null ? Object.keys(parent) : []
  const lower = field.toLowerCase()
  const hint = closest(field, keys) ?? keys.find((k) => k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()))
  return hint === undefined ? '' : ` (the input has "${hint}": did you mean "${field}"?)`
}

function hasPath(root: unknown, path: readonly (string | number)[]): boolean {
  let current = root
  for (const segment of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return false
    current = (current as Record<string | number, unknown>)[segment]
  }
  return true
}

/** A registry whose task types can be replaced while an engine runs on it (`serve --watch`). */
export interface ReloadableTaskRegistry extends TaskRegistry {
  /**
   * Replaces every task type at once; a name registered twice is an error and changes nothing.
   * A task run looks its type up when it starts, so runs in progress finish on the code they
   * started with and later runs use the new code.
   */
  replace(types: readonly TaskType[]): void
}

export function createReloadableTaskRegistry(types: readonly TaskType[]): ReloadableTaskRegistry {
  let current = createTaskRegistry(types)
  return {
    get: (type) => current.get(type),
    has: (type) => current.has(type),
    names: () => current.names(),
    list: () => current.list(),
    replace(next) {
      current = createTaskRegistry(next)
    },
  }
}


/** The input schema of a task type as JSON Schema (draft 2020-12), or null when it takes any input. */
export function inputJsonSchema(type: TaskType): Record<string, unknown> | null {
  if (type.input === undefined) return null
  try {
    return z.toJSONSchema(type.input, { unrepresentable: 'any', io: 'input' })
  } catch {
    return {}
  }
}

/** Checks a task's input against its type's schema; returns the parsed input or the failure to record. */
export function checkInput(type: TaskType, taskName: string, input: unknown): { ok: true; value: unknown } | { ok: false; failure: TaskFailure } {
  if (type.input === undefined) return { ok: true, value: input }
  const parsed = type.input.safeParse(input)
  if (parsed.success) return { ok: true, value: parsed.data }
  const problems = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? '/' + issue.path.map(String).join('/') : '(input)'}: ${issue.message}`)
    .join('; ')
  const label = type.name === taskName ? `task "${taskName}"` : `task "${taskName}" (type "${type.name}")`
  return { ok: false, failure: { message: `input of ${label} is invalid: ${problems}`, code: 'INPUT_INVALID', retryable: false } }
}
