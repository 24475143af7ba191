import type { EngineOptions } from '../engine/engine.js'
import type { OpenStoreOptions } from '../store/open-store.js'
import type { CliIo } from './cli-io.js'
import { UsageError } from './exit-codes.js'
import { nonEmpty } from './settings.js'

/** Engine, store and shutdown settings that `serve` and `worker` read from the environment. */
export interface EngineSettings {
  readonly engine: Pick<EngineOptions, 'maxConcurrent' | 'leaseMs' | 'pollMs' | 'maxRecoveries' | 'dataLimit' | 'storageLimit'>
  readonly store: OpenStoreOptions
  /** How long running task runs may finish on shutdown before they are handed back. */
  readonly graceMs: number
}

const MIB = 1024 * 1024

function whole(env: CliIo['env'], name: string, min: number, max: number): number | undefined {
  const raw = nonEmpty(env[name])
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} "${raw}" must be a whole number from ${min} to ${max}`)
  }
  return value
}

function oneOf<T extends string>(env: CliIo['env'], name: string, allowed: readonly T[]): T | undefined {
  const raw = nonEmpty(env[name])?.toUpperCase()
  if (raw === undefined) return undefined
  const match = allowed.find((a) => a.toUpperCase() === raw)
  if (match === undefined) throw new UsageError(`${name} "${raw}" must be one of ${allowed.join(', ')}`)
  return match
}

/**
 * FLOW_MANAGER_MAX_CONCURRENT (executions at once per process, default 256),
 * FLOW_MANAGER_LEASE_MS (default 30000), FLOW_MANAGER_POLL_MS (default 1000),
 * FLOW_MANAGER_SHUTDOWN_GRACE_MS (default 10000), FLOW_MANAGER_SQLITE_SYNCHRONOUS (FULL or NORMAL),
 * FLOW_MANAGER_PG_POOL_SIZE (default 10), FLOW_MANAGER_PG_STATEMENT_TIMEOUT_MS (default 30000),
 * FLOW_MANAGER_PG_SYNCHRONOUS_COMMIT (on or off), FLOW_MANAGER_MAX_RECOVERIES (runs of one task cut
 * off by crashes in a row before the execution fails with TASK_CRASHED, default 3),
 * FLOW_MANAGER_DATA_LIMIT (bytes of an execution input, a task input after mapping or a task
 * result, default 1 MiB), FLOW_MANAGER_EXECUTION_STORAGE_LIMIT (bytes one execution stores in all,
 * default 64 MiB).
 */
export function engineSettings(env: CliIo['env']): EngineSettings {
  const maxConcurrent = whole(env, 'FLOW_MANAGER_MAX_CONCURRENT', 1, 100_000)
  const leaseMs = whole(env, 'FLOW_MANAGER_LEASE_MS', 100, 3_600_000)
  const pollMs = whole(env, 'FLOW_MANAGER_POLL_MS', 10, 600_000)
  const sqliteSynchronous = oneOf(env, 'FLOW_MANAGER_SQLITE_SYNCHRONOUS', ['FULL', 'NORMAL'] as const)
  const poolSize = whole(env, 'FLOW_MANAGER_PG_POOL_SIZE', 1, 1000)
  const statementTimeoutMs = whole(env, 'FLOW_MANAGER_PG_STATEMENT_TIMEOUT_MS', 1, 3_600_000)
  const pgSynchronousCommit = oneOf(env, 'FLOW_MANAGER_PG_SYNCHRONOUS_COMMIT', ['on', 'off'] as const)
  const maxRecoveries = whole(env, 'FLOW_MANAGER_MAX_RECOVERIES', 1, 1000)
  // A JavaScript string holds at most about 512 MiB: larger data could not be handled at all.
  const dataLimit = whole(env, 'FLOW_MANAGER_DATA_LIMIT', 1024, 256 * MIB)
  const storageLimit = whole(env, 'FLOW_MANAGER_EXECUTION_STORAGE_LIMIT', 1024, 1024 * 1024 * MIB)
  return {
    engine: {
      ...(maxConcurrent === undefined ? {} : { maxConcurrent }),
      ...(leaseMs === undefined ? {} : { leaseMs }),
      ...(pollMs === undefined ? {} : { pollMs }),
      ...(maxRecoveries === undefined ? {} : { maxRecoveries }),
      ...(dataLimit === undefined ? {} : { dataLimit }),
      ...(storageLimit === undefined ? {} : { storageLimit }),
    },
    store: {
      ...(sqliteSynchronous === undefined ? {} : { sqliteSynchronous }),
      ...(poolSize === undefined ? {} : { poolSize }),
      ...(statementTimeoutMs === undefined ? {} : { statementTimeoutMs }),
      ...(pgSynchronousCommit === undefined ? {} : { pgSynchronousCommit }),
    },
    graceMs: whole(env, 'FLOW_MANAGER_SHUTDOWN_GRACE_MS', 0, 3_600_000) ?? 10_000,
  }
}

/** The limits of the README's "Limits" table that the environment sets; unset ones keep their defaults. */
export interface LimitSettings {
  readonly bodyLimit?: number
  readonly dataLimit?: number
  readonly requestTimeoutMs?: number
}

/**
 * FLOW_MANAGER_BODY_LIMIT (bytes of a request body, default 4 MiB),
 * FLOW_MANAGER_DATA_LIMIT (bytes of JSON of an execution input, default 1 MiB),
 * FLOW_MANAGER_REQUEST_TIMEOUT_MS (for a whole request to arrive, default 30000; 0 for none).
 */
export function limitSettings(env: CliIo['env']): LimitSettings {
  const bodyLimit = whole(env, 'FLOW_MANAGER_BODY_LIMIT', 1024, 2 ** 30)
  const dataLimit = whole(env, 'FLOW_MANAGER_DATA_LIMIT', 1024, 2 ** 30)
  const requestTimeoutMs = whole(env, 'FLOW_MANAGER_REQUEST_TIMEOUT_MS', 0, 3_600_000)
  return {
    ...(bodyLimit === undefined ? {} : { bodyLimit }),
    ...(dataLimit === undefined ? {} : { dataLimit }),
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
  }
}

/** The entries of `values` that are set, for options under exactOptionalPropertyTypes. */
export function definedOnly<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> }
}
