import { isAbsolute, resolve } from 'node:path'
import { DEFAULT_DATABASE_URL } from '../store/open-store.js'
import { createBuiltinTasks } from '../tasks/builtin-tasks.js'
import type { TaskType } from '../tasks/define-task.js'
import { parseHttpAllowList } from '../tasks/outbound-http/allow-list.js'
import type { CliIo } from './cli-io.js'
import { UsageError } from './exit-codes.js'

/**
 * The database a command uses: --db, else DATABASE_URL, else the default file. A relative
 * `sqlite:PATH` is made absolute against the working directory the user ran the command in.
 */
export function databaseUrl(option: string | undefined, io: Pick<CliIo, 'env' | 'cwd'>): string {
  const url = option ?? nonEmpty(io.env.DATABASE_URL) ?? DEFAULT_DATABASE_URL
  if (!url.startsWith('sqlite:')) return url
  const path = url.slice('sqlite:'.length)
  if (path === '' || path === ':memory:' || path.startsWith('//') || isAbsolute(path)) return url
  return `sqlite:${resolve(io.cwd, path)}`
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** LOG_LEVEL, checked here so that a typo is one clear line rather than pino's exception. */
export function logLevel(env: CliIo['env'], fallback: LogLevel): LogLevel {
  const value = nonEmpty(env.LOG_LEVEL)?.toLowerCase()
  if (value === undefined) return fallback
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel
  throw new UsageError(`LOG_LEVEL "${value}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`)
}

/** A TCP port from an option or the environment: a whole number from 0 (any free port) to 65535. */
export function port(value: string, source: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || n > 65535) throw new UsageError(`${source} "${value}" is not a port number (0-65535)`)
  return n
}

/**
 * FLOW_MANAGER_HTTP_ALLOW: comma-separated host names, host:port, addresses or CIDRs that the
 * http task may reach although they are not public; checked here so a typo stops the command.
 */
export function httpAllowList(env: CliIo['env']): readonly string[] {
  const entries = (env.FLOW_MANAGER_HTTP_ALLOW ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')
  try {
    parseHttpAllowList(entries)
  } catch (error) {
    throw new UsageError(`FLOW_MANAGER_HTTP_ALLOW: ${error instanceof Error ? error.message : String(error)}`)
  }
  return entries
}

/** The built-in task types, configured from the environment (the http task's allow list). */
export function builtinTasksFromEnv(env: CliIo['env']): readonly TaskType[] {
  return createBuiltinTasks({ http: { allow: httpAllowList(env) } })
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}
