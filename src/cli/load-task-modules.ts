import { stat } from 'node:fs/promises'
import { extname, isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { FlowManagerError } from '../core/errors.js'
import { builtinTasks } from '../tasks/builtin-tasks.js'
import { createTaskRegistry, type TaskRegistry, type TaskType } from '../tasks/define-task.js'
import { fsReason } from './read-json.js'
import { locateSyntaxError } from './source-location.js'

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx'])

/** How modules are imported: `fresh` evaluates them (and the files they import) again, as a reload needs. */
export interface LoadOptions {
  readonly fresh?: boolean
  /** Told every file the modules import, for a watcher. */
  readonly onImport?: (url: string) => void
}

/**
 * Builds the registry a command runs with: the built-in task types plus those of each user
 * module (the README's "Writing tasks"), in order. A name defined twice is an error that names both origins.
 */
export async function loadTaskRegistry(modules: readonly string[], cwd: string, builtins: readonly TaskType[] = builtinTasks): Promise<TaskRegistry> {
  return createTaskRegistry(await loadTaskTypes(modules, cwd, {}, builtins))
}

/** The built-in task types and those of each module, checked for names defined twice. */
export async function loadTaskTypes(modules: readonly string[], cwd: string, options: LoadOptions = {}, builtins: readonly TaskType[] = builtinTasks): Promise<TaskType[]> {
  const origin = new Map<string, string>(builtins.map((t) => [t.name, 'the built-in task types']))
  const all: TaskType[] = [...builtins]
  for (const specifier of modules) {
    for (const type of await loadTaskModule(specifier, cwd, options)) {
      const first = origin.get(type.name)
      if (first !== undefined) {
        throw new FlowManagerError('TASK_TYPE_DUPLICATE', `task module ${specifier} defines task type "${type.name}", which ${first} already define${first.startsWith('the ') ? '' : 's'}`)
      }
      origin.set(type.name, specifier)
      all.push(type)
    }
  }
  return all
}

export { taskModulesFromEnv } from './options.js'

/**
 * Imports one task module. TypeScript goes through tsx, so users need no build step; plain
 * JavaScript through Node's own import(). A bare name (no path, no extension) is a package,
 * resolved from the working directory.
 */
export async function loadTaskModule(specifier: string, cwd: string, options: LoadOptions = {}): Promise<readonly TaskType[]> {
  const fail = (why: string, cause?: unknown): FlowManagerError =>
    new FlowManagerError('TASK_MODULE_INVALID', `task module ${specifier}: ${why}`, cause === undefined ? {} : { cause })
  const path = resolve(cwd, specifier)
  const isPath = specifier.startsWith('.') || isAbsolute(specifier) || extname(specifier) !== ''
  if (isPath) {
    try {
      if (!(await stat(path)).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' })
    } catch (error) {
      throw new FlowManagerError('FILE_NOT_FOUND', `cannot load task module ${specifier}: ${fsReason(error)}`, { cause: error })
    }
  }
  let exports: Record<string, unknown>
  try {
    const typescript = isPath && TYPESCRIPT.has(extname(path))
    exports = (await importModule(isPath ? pathToFileURL(path).href : specifier, typescript || options.fresh === true || options.onImport !== undefined, cwd, options.onImport)) as Record<string, unknown>
  } catch (error) {
    const where = isPath ? await locateSyntaxError(error, path, cwd) : undefined
    if (where !== undefined) {
      throw fail(`syntax error at ${where.file}:${where.line}:${where.column}: ${where.message}${where.frame === '' ? '' : `\n${where.frame}`}`, error)
    }
    throw fail(`cannot be loaded: ${firstLine(error)}`, error)
  }
  // A TypeScript module in a CommonJS package (no "type": "module") is compiled to CommonJS: its
  // exports arrive as the default export of the namespace.
  const inner = exports.default
  if (typeof inner === 'object' && inner !== null && !Array.isArray(inner) && (Array.isArray((inner as Record<string, unknown>).default) || Array.isArray((inner as Record<string, unknown>).tasks))) {
    exports = inner as Record<string, unknown>
  }
  const [where, list] = Array.isArray(exports.default)
    ? ['the default export', exports.default as unknown[]]
    : Array.isArray(exports.tasks)
      ? ['the export "tasks"', exports.tasks as unknown[]]
      : [undefined, undefined]
  if (list === undefined) {
    const found = exports.default === undefined ? 'it has no default export' : `its default export is ${describe(exports.default)}`
    throw fail(`expected a list of task types as the default export (export default [defineTask({...})]) or as "export const tasks", but ${found}`)
  }
  list.forEach((item, i) => {
    if (!isTaskType(item)) throw fail(`item ${i} of ${where} is ${describe(item)}, not a task type made with defineTask`)
  })
  return list as TaskType[]
}

/**
 * Plain JavaScript goes through Node's import(), which caches a module for the life of the
 * process. tsx's tsImport evaluates the module and everything it imports afresh on each call (a
 * reload needs that) and reports each file it imports.
 */
async function importModule(url: string, viaTsx: boolean, cwd: string, onImport?: (url: string) => void): Promise<unknown> {
  if (!viaTsx && url.startsWith('file:')) return import(url)
  // Loaded only when needed: tsx registers a loader, which plain JavaScript modules do without.
  const { tsImport } = await import('tsx/esm/api')
  return tsImport(url, { parentURL: pathToFileURL(resolve(cwd, 'noop.js')).href, ...(onImport === undefined ? {} : { onImport }) })
}

function isTaskType(value: unknown): value is TaskType {
  if (typeof value !== 'object' || value === null) return false
  const t = value as Partial<TaskType>
  return typeof t.name === 'string' && t.name !== '' && typeof t.run === 'function'
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'object') return isTaskType(value) ? `a single task type ("${value.name}"; wrap it in a list)` : 'an object'
  return `a ${typeof value}`
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] ?? message
}
