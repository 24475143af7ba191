import { Kysely, Migrator, PostgresDialect } from 'kysely'
import pg from 'pg'
import { describe, it } from 'vitest'
import { postgresMigrations } from '../../src/store/postgres/migrations.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import { createTestDatabase, pgAvailable } from '../support/postgres.js'
import { expectUpgraded, V1_ROWS } from './upgrade-fixture.js'

const available = await pgAvailable()

describe.skipIf(!available)('upgrading a PostgreSQL database', () => {
  it('keeps the executions of schema 001 and makes them claimable as schema 002 expects', async () => {
    const database = await createTestDatabase()
    try {
      const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 1 }) }) })
      await new Migrator({ db, provider: { getMigrations: () => Promise.resolve(postgresMigrations) } }).migrateTo('001_init')
      await db.destroy()
      const client = new pg.Client({ connectionString: database.url })
      await client.connect()
      for (const statement of V1_ROWS) await client.query(statement)
      await client.end()

      const store = await openPostgresStore({ url: database.url, poolSize: 2 })
      try {
        await expectUpgraded(store)
      } finally {
        await store.close()
      }
    } finally {
      await database.drop()
    }
  })
})
