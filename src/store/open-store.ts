import { FlowManagerError } from '../core/errors.js'
import { createMemoryStore } from './memory/memory-store.js'
import { openPostgresStore } from './postgres/postgres-store.js'
import { openSqliteStore } from './sqlite/sqlite-store.js'
import type { Store } from './store.js'

/** The database used when none is named. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/flow-manager.db'

export interface OpenStoreOptions {
  /** SQLite durability; see SqliteStoreOptions. */
  readonly sqliteSynchronous?: 'FULL' | 'NORMAL'
  /** PostgreSQL: most connections this process opens. Default 10. */
  readonly poolSize?: number
  /** PostgreSQL: statements running longer are cancelled, in ms. Default 30000; 0 for none. */
  readonly statementTimeoutMs?: number
  /** PostgreSQL durability; see PostgresStoreOptions. Default `on`. */
  readonly pgSynchronousCommit?: 'on' | 'off'
}

/**
 * Opens the store a database URL names: `sqlite:PATH`, `sqlite::memory:`, `memory:` (nothing
 * kept), or `postgres://…`.
 */
export async function openStore(url: string = DEFAULT_DATABASE_URL, options: OpenStoreOptions = {}): Promise<Store> {
  if (url === 'memory:') return createMemoryStore()
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (path === '') throw new FlowManagerError('DATABASE_URL_INVALID', `database URL "${url}" names no file; use sqlite:PATH or sqlite::memory:`)
    return openSqliteStore({ path, ...(options.sqliteSynchronous === undefined ? {} : { synchronous: options.sqliteSynchronous }) })
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return openPostgresStore({
      url,
      ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
      ...(options.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: options.statementTimeoutMs }),
      ...(options.pgSynchronousCommit === undefined ? {} : { synchronousCommit: options.pgSynchronousCommit }),
    })
  }
  throw new FlowManagerError(
    'DATABASE_URL_INVALID',
    `database URL "${url}" is not one Flow Manager knows: use sqlite:PATH, sqlite::memory:, memory: or postgres://…`,
  )
}
