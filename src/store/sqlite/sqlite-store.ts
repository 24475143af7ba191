import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely'
import { FlowManagerError } from '../../core/errors.js'
import { createSqlQueries, prepareStepWrites } from '../sql/sql-queries.js'
import { binder, EVENT_FIELDS, executionFromRow, STEP_FIELDS, taskRunFromRow } from '../sql/rows.js'
import type { Database } from '../sql/schema.js'
import { LeaseLostError, type StepWrite, type Store } from '../store.js'
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
  const statement = (name: keyof typeof writes, fields: Parameters<typeof binder>[1]) => {
    const prepared = database.prepare(writes[name].sql)
    const bind = binder(writes[name].order, fields)
    return (step: StepWrite) => prepared.run(bind(step))
  }
  const insertExecution = statement('insertExecution', STEP_FIELDS.insertExecution)
  const updateExecution = statement('updateExecution', STEP_FIELDS.updateExecution)
  const takeoverExecution = statement('takeoverExecution', STEP_FIELDS.updateExecution)
  const interruptRun = statement('interruptRun', STEP_FIELDS.interruptRun)
  const finishRun = statement('finishRun', STEP_FIELDS.finishRun)
  const startRun = statement('startRun', STEP_FIELDS.startRun)
  const insertEvents = statement('insertEvents', EVENT_FIELDS)

  /** Applies one step; the execution row goes first so that a fenced-out step writes nothing. */
  const apply = (step: StepWrite): boolean => {
    if (step.create !== undefined) insertExecution(step)
    else if ((step.takeover === true ? takeoverExecution(step) : updateExecution(step)).changes === 0) return false
    if (step.interruptRun !== undefined) interruptRun(step)
    if (step.finishRun !== undefined) finishRun(step)
    if (step.startRun !== undefined) startRun(step)
    if (step.events.length > 0) insertEvents(step)
    return true
  }
  const applyAll = database.transaction((batch: readonly Pending[]) => batch.map((pending) => apply(pending.step)))
  const applyOne = database.transaction((step: StepWrite) => apply(step))
  const settle = (pending: Pending, applied: boolean): void => {
    if (applied) pending.resolve()
    else pending.reject(new LeaseLostError(pending.step.executionId))
  }

  const maxBatch = options.maxBatch ?? 512
  let queue: Pending[] = []
  let scheduled = false
  let closed = false
  const flush = (): void => {
    scheduled = false
    const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue
    if (batch === queue) queue = []
    if (queue.length > 0) schedule()
    let applied: boolean[]
    try {
      applied = applyAll(batch)
    } catch {
      // One bad step must not fail the others: retry each in a transaction of its own.
      for (const pending of batch) {
        let ok: boolean
        try {
          ok = applyOne(pending.step)
        } catch (error) {
          pending.reject(error)
          continue
        }
        settle(pending, ok)
      }
      return
    }
    batch.forEach((pending, i) => settle(pending, applied[i] === true))
  }
  const schedule = (): void => {
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }

  const queries = createSqlQueries(db, 'sqlite')
  // The hottest reads skip the query builder: prepared once, run synchronously on the same connection.
  const selectExecution = database.prepare('select * from executions where id = ?')
  const selectRuns = database.prepare('select * from task_runs where execution_id = ? order by seq')
  const selectByKey = database.prepare('select * from executions where idempotency_key = ?')
  type ExecutionRow = Parameters<typeof executionFromRow>[0]
  type RunRow = Parameters<typeof taskRunFromRow>[0]
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
    getExecution(id) {
      const row = selectExecution.get(id) as ExecutionRow | undefined
      if (row === undefined) return Promise.resolve(undefined)
      const runs = selectRuns.all(id) as RunRow[]
      return Promise.resolve({ execution: executionFromRow(row), runs: runs.map(taskRunFromRow) })
    },
    findExecutionByIdempotencyKey(key) {
      const row = selectByKey.get(key) as ExecutionRow | undefined
      return Promise.resolve(row === undefined ? undefined : executionFromRow(row))
    },
    listExecutions: queries.listExecutions,
    listUnfinished: queries.listUnfinished,
    claim: queries.claim,
    heartbeat: queries.heartbeat,
    release: queries.release,
    listLeaseOwners: queries.listLeaseOwners,
    requestCancel: queries.requestCancel,
    listEvents: queries.listEvents,
    countQueued: queries.countQueued,
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
