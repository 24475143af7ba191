import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect } from 'kysely'
import { afterAll, describe, it } from 'vitest'
import { sqliteMigrations } from '../../src/store/sqlite/migrations.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from '../fixtures/engine.js'
import { expectUpgraded, V1_ROWS } from './upgrade-fixture.js'

const dir = tempDir()
afterAll(() => dir.remove())

describe('upgrading a SQLite database', () => {
  it('keeps the executions of schema 001 and makes them claimable as schema 002 expects', async () => {
    const path = join(dir.path, 'v1.db')
    const database = new BetterSqlite3(path)
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) })
    await new Migrator({ db, provider: { getMigrations: () => Promise.resolve(sqliteMigrations) } }).migrateTo('001_init')
    for (const statement of V1_ROWS) database.exec(statement)
    await db.destroy()

    const store = await openSqliteStore({ path })
    try {
      await expectUpgraded(store)
    } finally {
      await store.close()
    }
  })
})
