import { FlowManagerError } from '../core/errors.js'
import { createMemoryStore } from './memory/memory-store.js'
import { openSqliteStore } from './sqlite/sqlite-store.js'
import type { Store } from './store.js'

/** The database used when none is named. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/flow-manager.db'

export interface OpenStoreOptions {
  /** SQLite durability; see SqliteStoreOptions. */
  readonly sqliteSynchronous?: 'FULL' | 'NORMAL'
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
    throw new FlowManagerError('DATABASE_URL_INVALID', 'the PostgreSQL store is not available in this version yet; use sqlite:PATH')
  }
  throw new FlowManagerError(
    'DATABASE_URL_INVALID',
    `database URL "${url}" is not one Flow Manager knows: use sqlite:PATH, sqlite::memory:, memory: or postgres://…`,
  )
}
