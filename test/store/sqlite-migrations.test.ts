import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngine } from '../../src/engine/engine.js'
import { sqliteMigrations } from '../../src/store/sqlite/migrations.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import { tempDir } from '../fixtures/engine.js'
import { expectUpgraded, V1_ROWS } from './upgrade-fixture.js'

const dir = tempDir()
afterAll(() => dir.remove())

/** A database file at schema 001 holding V1_ROWS. */
async function writeV1(path: string): Promise<void> {
  const database = new BetterSqlite3(path)
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) })
  await new Migrator({ db, provider: { getMigrations: () => Promise.resolve(sqliteMigrations) } }).migrateTo('001_init')
  for (const statement of V1_ROWS) database.exec(statement)
  await db.destroy()
}

describe('upgrading a SQLite database', () => {
  it('keeps the executions of schema 001 and makes them claimable as schema 002 expects', async () => {
    const path = join(dir.path, 'v1.db')
    await writeV1(path)

    const store = await openSqliteStore({ path })
    try {
      await expectUpgraded(store)
    } finally {
      await store.close()
    }
  })

  it('lets an engine finish the executions that schema 001 left running: a cut-off run and a retry wait', async () => {
    const path = join(dir.path, 'v1-engine.db')
    await writeV1(path)

    const store = await openSqliteStore({ path })
    const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks), pollMs: 20 })
    try {
      engine.startWorker()
      const ended = await Promise.all(['running', 'retrying'].map((id) => engine.waitForEnd(id)))
      expect(ended.map((d) => [d.execution.id, d.execution.status, d.runs.map((r) => r.status)])).toEqual([
        ['running', 'completed', ['success', 'interrupted', 'success']],
        ['retrying', 'completed', ['failure', 'success']],
      ])
    } finally {
      await engine.close({ graceMs: 0 })
      await store.close()
    }
  })
})
