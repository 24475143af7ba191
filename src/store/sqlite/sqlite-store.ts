import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, Migrator, SqliteDialect, type MigrationProvider } from 'kysely'
import { FlowManagerError } from '../../core/errors.js'
import { type ExecutionDetail, type ReadLimits, type StepWrite, type Store } from '../store.js'
import { createSqlQueries, dataFrom, type Reader } from '../sql/sql-queries.js'
import { wakeAtExpression } from '../sql/columns.js'
import { GroupCommit, writeHealth } from '../sql/group-commit.js'
import { executionFromRow, taskRunFromRow, type Row } from '../sql/rows.js'
import type { Database, ExecutionsTable, TaskRunsTable } from '../sql/schema.js'
import { sqliteMigrations } from './migrations.js'
import { prepareSqliteSteps } from './sqlite-steps.js'
import { FinishedReads } from './finished-reads.js'

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

const RUN_META =
  'execution_id, seq, task_name, task_type, attempt, status, error, started_at, finished_at, duration_ms, next_task, parent_seq, branch, item_index, waiting_for, retry_at'

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
  const statements = statementCache(database)
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) })
  await migrate(db)

  const steps = prepareSqliteSteps(database)
  const writes = writeHealth()
  const commits = new GroupCommit({
    commit: steps.commit,
    maxBatch: options.maxBatch ?? 512,
    maxInFlight: 1,
    retryOneByOne: isStatementError,
    onResult: writes.onResult,
  })

  // The reads that take an execution up run at once on the connection: hundreds of claimed
  // executions at a time would otherwise queue behind Kysely's connection lock, one query each.
  const readNow: Reader = (query) => {
    const { sql, parameters } = query.compile()
    return Promise.resolve(statements.prepare(sql).all(...parameters) as never)
  }
  const queries = createSqlQueries(db, 'sqlite', readNow)
  // Reads that must see one state of an execution run synchronously, so that no commit slips in between.
  const selectExecution = database.prepare('select * from executions where id = ?')
  const selectRuns = database.prepare('select * from task_runs where execution_id = ? order by seq')
  const selectSizes = database.prepare('select seq, coalesce(length(data), 0) as bytes from task_runs where execution_id = ? order by seq desc limit ?')
  const selectBounded = database.prepare(
    `select ${RUN_META}, case when seq >= ? then data end as data, case when seq < ? and data is not null then 1 else 0 end as omitted
     from task_runs where execution_id = ? and seq >= ? order by seq`,
  )
  const selectByKey = database.prepare('select * from executions where idempotency_key = ?')
  const selectStatus = database.prepare('select status from executions where id = ?')
  const insertSignal = database.prepare(
    `insert into signals (execution_id, seq, name, payload, created_at, consumed_by)
     select ?, coalesce(max(seq), 0) + 1, ?, ?, ?, null from signals where execution_id = ?`,
  )
  const pokeExecution = database.prepare(`update executions set poke = poke + 1, wake_at = ${wakeAtExpression('?')} where id = ?`)
  const addSignal = database.transaction((id: string, name: string, payload: string, at: number): 'added' | 'not_found' | 'finished' => {
    const row = selectStatus.get(id) as { status: string } | undefined
    if (row === undefined) return 'not_found'
    if (row.status !== 'pending' && row.status !== 'running') return 'finished'
    insertSignal.run(id, name, payload, at, id)
    pokeExecution.run(at, at, id)
    return 'added'
  })

  const dataVersion = database.prepare('pragma data_version').pluck()
  const finished = new FinishedReads(() => dataVersion.get() as number)
  const getExecution = (id: string, limits?: ReadLimits): ExecutionDetail | undefined => {
    const row = selectExecution.get(id) as Row<ExecutionsTable> | undefined
    if (row === undefined) return undefined
    const execution = executionFromRow(row)
    if (limits === undefined) {
      const runs = (selectRuns.all(id) as Row<TaskRunsTable>[]).map(taskRunFromRow)
      return { execution, runs, totalRuns: runs.length }
    }
    const sizes = selectSizes.all(id, limits.maxRuns) as { seq: number; bytes: number }[]
    const first = sizes.at(-1)?.seq
    // No run, or none asked for.
    if (first === undefined) return { execution, runs: [], totalRuns: execution.seq }
    const from = dataFrom(sizes, limits.maxDataBytes)
    const runRows = selectBounded.all(from, from, id, first) as Parameters<typeof taskRunFromRow>[0][]
    const detail = { execution, runs: runRows.map(taskRunFromRow), totalRuns: execution.seq }
    // What it holds in memory: every text read, the runs' (data, errors, names) and the execution's (input, state).
    let bytes = 0
    for (const r of [row, ...runRows]) for (const value of Object.values(r)) if (typeof value === 'string') bytes += value.length
    finished.put(id, limits, detail, bytes)
    return detail
  }
  const readExecution = (id: string, limits?: ReadLimits): ExecutionDetail | undefined =>
    (limits === undefined ? undefined : finished.get(id, limits)) ?? getExecution(id, limits)
  /** A step may change the executions it names: forget them when it is handed in and once it is committed. */
  const forgetStep = (step: StepWrite): void => {
    finished.forget(step.executionId)
    finished.forget(step.wakeParent)
    for (const child of step.cancelChildren ?? []) finished.forget(child)
  }
  const write = (step: StepWrite): Promise<void> => {
    forgetStep(step)
    return commits.write(step).finally(() => forgetStep(step))
  }

  return {
    kind: 'sqlite',
    database,
    write,
    writesFailing: writes.failing,
    putDefinition: (hash, flow) => queries.putDefinition(hash, flow, Date.now()),
    getDefinition: queries.getDefinition,
    registerFlow: (hash, flow, at) => queries.registerFlow(hash, flow, at),
    getFlow: queries.getFlow,
    listFlows: queries.listFlows,
    getExecution: (id, limits) => Promise.resolve(readExecution(id, limits)),
    getExecutionRecord(id) {
      const row = selectExecution.get(id) as Row<ExecutionsTable> | undefined
      return Promise.resolve(row === undefined ? undefined : executionFromRow(row))
    },
    listTaskRuns: queries.listTaskRuns,
    getTaskRun: queries.getTaskRun,
    loadForRecovery: queries.loadForRecovery,
    findExecutionByIdempotencyKey(key) {
      const row = selectByKey.get(key) as Row<ExecutionsTable> | undefined
      return Promise.resolve(row === undefined ? undefined : executionFromRow(row))
    },
    listExecutions: queries.listExecutions,
    claim: queries.claim,
    nextWake: queries.nextWake,
    heartbeat: queries.heartbeat,
    release: queries.release,
    beat: queries.beat,
    listNodes: queries.listNodes,
    removeNode: queries.removeNode,
    listLeaseOwners: queries.listLeaseOwners,
    requestCancel(id, now) {
      finished.forget(id)
      return queries.requestCancel(id, now)
    },
    poke(id, now) {
      finished.forget(id)
      return queries.poke(id, now)
    },
    addSignal(id, name, payload, at) {
      finished.forget(id)
      return Promise.resolve(addSignal(id, name, payload, at))
    },
    pendingSignals: queries.pendingSignals,
    listChildren: queries.listChildren,
    latestResults: queries.latestResults,
    listEvents: queries.listEvents,
    countQueued: queries.countQueued,
    statuses: queries.statuses,
    ping: queries.ping,
    async close() {
      await commits.close()
      await db.destroy()
    },
  }
}

/** Most statements kept prepared: the queries' texts, plus a few variants of lists of ids. */
const MAX_STATEMENTS = 256

/**
 * The connection as Kysely sees it, with each statement prepared once: Kysely prepares every query
 * it runs, which costs more than running a small one. The latest 256 texts are kept.
 */
function statementCache(database: BetterSqlite3.Database): { prepare(sql: string): BetterSqlite3.Statement; close(): void } {
  const statements = new Map<string, BetterSqlite3.Statement>()
  return {
    prepare(sql) {
      let statement = statements.get(sql)
      if (statement !== undefined) {
        statements.delete(sql)
      } else {
        statement = database.prepare(sql)
        if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value as string)
      }
      statements.set(sql, statement)
      return statement
    },
    close: () => database.close(),
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

/**
 * SQLite's codes for a database that cannot write at all (a full or failing disk, a locked or
 * read-only file); anything else (a constraint, a value it cannot store) is about one statement.
 */
const CANNOT_WRITE = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CORRUPT|CANTOPEN|NOMEM|NOTADB|PROTOCOL|PERM|NOLFS|AUTH)/

function isStatementError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return !(typeof code === 'string' && CANNOT_WRITE.test(code))
}
