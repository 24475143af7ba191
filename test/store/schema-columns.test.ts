import BetterSqlite3 from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import {
  CONSUME_COLUMNS,
  EVENT_COLUMNS,
  EXECUTION_CREATE_COLUMNS,
  EXECUTION_STATE_COLUMNS,
  RUN_END_COLUMNS,
  RUN_INTERRUPT_COLUMNS,
  RUN_PARK_COLUMNS,
  RUN_START_COLUMNS,
  type Column,
  type PgType,
} from '../../src/store/sql/columns.js'
import { sqliteMigrations } from '../../src/store/sqlite/migrations.js'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'

const available = await pgAvailable()

/** A table column as its migrations made it. */
interface TableColumn {
  readonly type: string
  readonly notNull: boolean
  readonly hasDefault: boolean
}
type Schema = Map<string, Map<string, TableColumn>>

/** Every table the step writes touch, with the registry entries that write it. */
const WRITTEN: Record<string, readonly (readonly Column<never>[])[]> = {
  executions: [EXECUTION_STATE_COLUMNS, EXECUTION_CREATE_COLUMNS],
  task_runs: [RUN_START_COLUMNS, RUN_END_COLUMNS, RUN_PARK_COLUMNS, RUN_INTERRUPT_COLUMNS],
  execution_events: [EVENT_COLUMNS],
  signals: [CONSUME_COLUMNS],
}
/** Columns a new row gets from the statement that inserts it. */
const INSERTED: Record<string, readonly (readonly Column<never>[])[]> = {
  executions: [EXECUTION_STATE_COLUMNS, EXECUTION_CREATE_COLUMNS],
  task_runs: [RUN_START_COLUMNS],
  execution_events: [EVENT_COLUMNS],
}

const SQLITE_TYPE: Record<PgType, string> = { text: 'text', int4: 'integer', int8: 'integer', float8: 'real', bool: 'integer' }
const PG_TYPE: Record<PgType, string> = { text: 'text', int4: 'integer', int8: 'bigint', float8: 'double precision', bool: 'boolean' }
/** The SQLite type a PostgreSQL column's values are kept in. */
const PG_TO_SQLITE: Record<string, string> = { text: 'text', integer: 'integer', bigint: 'integer', 'double precision': 'real' }

/** What is wrong between the column registry and a migrated schema: a column missing, of another type, or never written. */
function drift(schema: Schema, typeOf: Record<PgType, string>): string[] {
  const problems: string[] = []
  for (const [table, groups] of Object.entries(WRITTEN)) {
    const columns = schema.get(table)
    if (columns === undefined) {
      problems.push(`no table ${table}`)
      continue
    }
    for (const column of groups.flat()) {
      const actual = columns.get(column.name)
      if (actual === undefined) problems.push(`${table}.${column.name} is written but has no column`)
      else if (actual.type !== typeOf[column.pg]) problems.push(`${table}.${column.name} is written as ${column.pg} into a ${actual.type} column`)
    }
  }
  for (const [table, groups] of Object.entries(INSERTED)) {
    const written = new Set(groups.flat().map((c) => c.name))
    for (const [name, column] of schema.get(table) ?? []) {
      if (column.notNull && !column.hasDefault && !written.has(name)) problems.push(`${table}.${name} is required but no insert writes it`)
    }
  }
  return [...new Set(problems)]
}

/** The SQLite schema its migrations make (migrated alone: a store would not open on a drifted registry). */
async function sqliteSchema(): Promise<Schema> {
  const database = new BetterSqlite3(':memory:')
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) })
  try {
    const { error } = await new Migrator({ db, provider: { getMigrations: () => Promise.resolve(sqliteMigrations) } }).migrateToLatest()
    if (error !== undefined) throw new Error(`the SQLite migrations failed: ${(error as Error).message}`)
    const tables = database.prepare(`select name from sqlite_master where type = 'table' and name not like 'kysely%' and name not like 'sqlite%'`).all() as { name: string }[]
    const schema: Schema = new Map()
    for (const { name } of tables) {
      const info = database.pragma(`table_info(${name})`) as { name: string; type: string; notnull: number; dflt_value: unknown; pk: number }[]
      schema.set(name, new Map(info.map((c) => [c.name, { type: c.type.toLowerCase(), notNull: c.notnull === 1 || c.pk > 0, hasDefault: c.dflt_value !== null }])))
    }
    return schema
  } finally {
    await db.destroy()
  }
}

describe('the column registry and the SQLite schema', () => {
  it('agree: every column a step writes exists with its type, and every required column is written', async () => {
    expect(drift(await sqliteSchema(), SQLITE_TYPE)).toEqual([])
  })
})

describe.skipIf(!available)('the column registry and the PostgreSQL schema', () => {
  let database: TestDatabase
  let schema: Schema
  beforeAll(async () => {
    database = await createTestDatabase()
    await (await openPostgresStore({ url: database.url, poolSize: 1 })).close()
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      const { rows } = await client.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: string | null }>(
        `select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns
         where table_schema = 'public' and table_name not like 'kysely%'`,
      )
      schema = new Map()
      for (const r of rows) {
        const table = schema.get(r.table_name) ?? new Map<string, TableColumn>()
        table.set(r.column_name, { type: r.data_type, notNull: r.is_nullable === 'NO', hasDefault: r.column_default !== null })
        schema.set(r.table_name, table)
      }
    } finally {
      await client.end()
    }
  })
  afterAll(() => database?.drop())

  it('agree: every column a step writes exists with its type, and every required column is written', () => {
    expect(drift(schema, PG_TYPE)).toEqual([])
  })

  it('has the same tables and columns as the SQLite schema, with the same types and nullability', async () => {
    const sqlite = await sqliteSchema()
    const shape = (s: Schema, type: (t: string) => string) =>
      Object.fromEntries([...s].sort(([a], [b]) => a.localeCompare(b)).map(([table, columns]) => [table, Object.fromEntries([...columns].sort(([a], [b]) => a.localeCompare(b)).map(([name, c]) => [name, `${type(c.type)}${c.notNull ? ' not null' : ''}`]))]))
    expect(shape(schema, (t) => PG_TO_SQLITE[t] ?? t)).toEqual(shape(sqlite, (t) => t))
  })
})
