import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely'
import { FlowManagerError } from '../../core/errors.js'
import { createSqlQueries, prepareStepWrites } from '../sql/sql-queries.js'
import { binder, STEP_FIELDS } from '../sql/rows.js'
import type { Database } from '../sql/schema.js'
import type { StepWrite, Store } from '../store.js'
import { sqliteMigrations } from './migrations.js'

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` for a throwaway database. */
  readonly path: string
  /**
   * `FULL` (default) survives power loss: a write is acknowledged only once it is on disk.
   * `NORMAL` survives a process crash but may lose the last commits on power loss; faster.
   */
  readonly synchronous?: 'FULL' | 'NORMAL'
  /** Most steps committed in one transaction, to keep each commit short. Default 512. */
  readonly maxBatch?: number
}

interface Pending {
  readonly step: StepWrite
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

/**
 * The embedded store. Steps written during one turn of the event loop are committed together in
 * one transaction (group commit): each caller is answered only after that commit, so nothing is
 * acknowledged before it is durable, yet one fsync serves many executions.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store & { readonly database: BetterSqlite3.Database }> {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
  let database: BetterSqlite3.Database
  try {
    database = new BetterSqlite3(options.path)
  } catch (error) {
    throw new FlowManagerError('STORE_UNAVAILABLE', `cannot open SQLite database "${options.path}": ${(error as Error).message}`, { cause: error })
  }
  database.pragma('journal_mode = WAL')
  database.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`)
  database.pragma('busy_timeout = 5000')
  database.pragma('foreign_keys = ON')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) })
  await migrate(db)

  const writes = prepareStepWrites(db)
  const insertExecution = database.prepare(writes.insertExecution.sql)
  const updateExecution = database.prepare(writes.updateExecution.sql)
  const finishRun = database.prepare(writes.finishRun.sql)
  const startRun = database.prepare(writes.startRun.sql)
  const bindInsert = binder(writes.insertExecution.order, STEP_FIELDS.insertExecution)
  const bindUpdate = binder(writes.updateExecution.order, STEP_FIELDS.updateExecution)
  const bindFinish = binder(writes.finishRun.order, STEP_FIELDS.finishRun)
  const bindStart = binder(writes.startRun.order, STEP_FIELDS.startRun)
  const apply = (step: StepWrite): void => {
    if (step.finishRun !== undefined) finishRun.run(bindFinish(step))
    if (step.create !== undefined) insertExecution.run(bindInsert(step))
    else updateExecution.run(bindUpdate(step))
    if (step.startRun !== undefined) startRun.run(bindStart(step))
  }
  const applyAll = database.transaction((batch: readonly Pending[]) => {
    for (const pending of batch) apply(pending.step)
  })
  const applyOne = database.transaction((step: StepWrite) => apply(step))

  const maxBatch = options.maxBatch ?? 512
  let queue: Pending[] = []
  let scheduled = false
  let closed = false
  const flush = (): void => {
    scheduled = false
    const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue
    if (batch === queue) queue = []
    if (queue.length > 0) schedule()
    try {
      applyAll(batch)
    } catch {
      // One bad step must not fail the others: retry each in a transaction of its own.
      for (const pending of batch) {
        try {
          applyOne(pending.step)
        } catch (error) {
          pending.reject(error)
          continue
        }
        pending.resolve()
      }
      return
    }
    for (const pending of batch) pending.resolve()
  }
  const schedule = (): void => {
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }

  const queries = createSqlQueries(db)
  return {
    kind: 'sqlite',
    database,
    write(step) {
      if (closed) return Promise.reject(new FlowManagerError('STORE_UNAVAILABLE', 'the store is closed'))
      return new Promise<void>((resolve, reject) => {
        queue.push({ step, resolve, reject })
        schedule()
      })
    },
    putDefinition: (hash, flow) => queries.putDefinition(hash, flow, Date.now()),
    getDefinition: queries.getDefinition,
    registerFlow: (hash, flow, at) => queries.registerFlow(hash, flow, at),
    getFlow: queries.getFlow,
    listFlows: queries.listFlows,
    getExecution: queries.getExecution,
    findExecutionByIdempotencyKey: queries.findExecutionByIdempotencyKey,
    listExecutions: queries.listExecutions,
    listUnfinished: queries.listUnfinished,
    ping: queries.ping,
    async close() {
      if (closed) return
      while (queue.length > 0) flush()
      closed = true
      await db.destroy()
    },
  }
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(sqliteMigrations) }
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest()
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new FlowManagerError('STORE_UNAVAILABLE', `database migration ${failed} failed: ${(error as Error).message}`, { cause: error })
  }
}
