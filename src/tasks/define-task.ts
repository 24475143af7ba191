import { z } from 'zod'
import { FlowManagerError } from '../core/errors.js'
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
    inputIssues: (type, input) => {
      const schema = byName.get(type)?.input
      if (schema === undefined) return []
      const parsed = schema.safeParse(input)
      if (parsed.success) return []
      return parsed.error.issues.slice(0, 10).map((issue) => {
        const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol')
        const field = path[path.length - 1]
        if (issue.code !== 'invalid_type' || typeof field !== 'string' || valueAt(input, path) !== undefined) return { path, message: issue.message }
        const parent = valueAt(input, path.slice(0, -1))
        const keys = typeof parent === 'object' && parent !== null ? Object.keys(parent) : []
        const lower = field.toLowerCase()
        const hint = closest(field, keys) ?? keys.find((k) => k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()))
        return { path, message: `required field "${field}" is missing${hint === undefined ? '' : ` (the input has "${hint}": did you mean "${field}"?)`}` }
      })
    },
  }
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let current = value
  for (const segment of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return undefined
    current = (current as Record<string | number, unknown>)[segment]
  }
  return current
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
