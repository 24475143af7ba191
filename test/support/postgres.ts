import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The server tests use; override with FLOW_MANAGER_TEST_PG (a URL to its `postgres` database). */
export const ADMIN_URL = process.env.FLOW_MANAGER_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** True when CI demands PostgreSQL: its tests then fail instead of skipping. */
export const pgRequired = process.env.FLOW_MANAGER_REQUIRE_PG === '1'

let available: Promise<boolean> | undefined

/**
 * Whether a PostgreSQL server answers at ADMIN_URL. When none does, it warns once (so a skipped
 * suite is visible), or throws when FLOW_MANAGER_REQUIRE_PG=1.
 */
export function pgAvailable(): Promise<boolean> {
  available ??= (async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 })
    client.on('error', () => undefined)
    try {
      await client.connect()
      await client.query('select 1')
      return true
    } catch (error) {
      const why = `no PostgreSQL answers at ${ADMIN_URL} (${(error as Error).message})`
      if (pgRequired) throw new Error(`${why}, and FLOW_MANAGER_REQUIRE_PG=1 requires it`)
      console.warn(`SKIPPING PostgreSQL tests: ${why}. Set FLOW_MANAGER_REQUIRE_PG=1 to make this a failure.`)
      return false
    } finally {
      await client.end().catch(() => undefined)
    }
  })()
  return available
}

export interface TestDatabase {
  /** A URL to the new, empty database. */
  readonly url: string
  /** Ends every connection to it and drops it. */
  drop(): Promise<void>
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL })
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Creates a database of its own for one test file (or bench run): `fm_test_<random>`. */
export async function createTestDatabase(prefix = 'fm_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  await admin((client) => client.query(`create database ${name}`))
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: () =>
      admin(async (client) => {
        await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name])
        await client.query(`drop database if exists ${name}`)
      }),
  }
}
