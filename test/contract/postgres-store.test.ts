import { afterAll, beforeAll, describe } from 'vitest'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'
import { describeSqlStore } from './sql-contract.js'
import { describeStore } from './store-contract.js'

const available = await pgAvailable()

describe.skipIf(!available)('PostgreSQL', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(() => database?.drop())

  // One database for the file; each test starts from empty tables.
  const open = async () => {
    const store = await openPostgresStore({ url: database.url, poolSize: 6 })
    await truncateAll(database.url)
    return { store, cleanup: () => store.close() }
  }
  describeStore('postgres', open)
  describeSqlStore('postgres', open)
})

async function truncateAll(url: string): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('truncate execution_events, task_runs, signals, nodes, executions, flows, flow_definitions')
  } finally {
    await client.end()
  }
}
