import { Kysely, Migrator, PostgresDialect, sql, type MigrationProvider } from 'kysely'
import { createHash } from 'node:crypto'
import pg from 'pg'
import { FlowManagerError } from '../../core/errors.js'
import { creationRefused } from '../creation-refused.js'
import { createSqlQueries, type Reader } from '../sql/sql-queries.js'
import { GroupCommit, writeHealth, type StepOutcome } from '../sql/group-commit.js'
import type { Database } from '../sql/schema.js'
import { LeaseLostError, type ExecutionDetail, type ReadLimits, type StepWrite, type Store } from '../store.js'
import { postgresMigrations } from './migrations.js'
import { WRITE_STEPS_SQL, writeStepsParameters } from './step-batch.js'
import { createWorkListener, WORK_CHANNEL } from './work-listener.js'

export interface PostgresStoreOptions {
  /** A `postgres://` or `postgresql://` connection URL. */
  readonly url: string
  /**
   * Most connections this process opens for queries and writes. Default 10. Two more serve lease
   * bookkeeping, and one LISTEN while a worker subscribes.
   */
  readonly poolSize?: number
  /** A statement running longer than this is cancelled by the server, in ms. Default 30000; 0 for none. */
  readonly statementTimeoutMs?: number
  /**
   * `on` (default) acknowledges a write only once PostgreSQL has flushed it to its WAL on disk: it
   * survives power loss. `off` acknowledges before the flush: faster, and a crash of the database
   * server (not of this process) may lose the last fraction of a second of acknowledged steps.
   */
  readonly synchronousCommit?: 'on' | 'off'
  /** Most steps committed in one statement. Default 1000. */
  readonly maxBatch?: number
}

/** Batches committing at once: one more than one, so that PostgreSQL's own group commit can overlap them. */
const MAX_IN_FLIGHT = 2
/** Advisory lock key that serializes migrations between processes starting at once ("fm-migr"). */
const MIGRATION_LOCK = 0x666d_6d69_6772
const REGISTER_ATTEMPTS = 100

/**
 * The shared store: several processes, on one machine or many, work on one PostgreSQL database.
 * Claims lock rows with FOR UPDATE SKIP LOCKED. Steps written in one turn of the event loop are
 * committed together (group commit) as one statement; each caller is answered only after commit.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const statementTimeout = options.statementTimeoutMs ?? 30_000
  const config: pg.ClientConfig = {
    connectionString: options.url,
    application_name: 'flow-manager',
    connectionTimeoutMillis: 10_000,
    ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
    ...(options.synchronousCommit === 'off' ? { options: '-c synchronous_commit=off' } : {}),
  }
  const pool = new pg.Pool({ ...config, max: options.poolSize ?? 10 })
  // A server restart breaks idle connections: the pool drops them and later queries reconnect.
  pool.on('error', () => undefined)
  // A connection that breaks while checked out fails its query; it must not crash the process.
  pool.on('connect', (client) => client.on('error', () => undefined))
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  try {
    await migrate(db)
  } catch (error) {
    await db.destroy().catch(() => undefined)
    if (error instanceof FlowManagerError) throw error
    throw new FlowManagerError('STORE_UNAVAILABLE', `cannot open PostgreSQL database: ${(error as Error).message}`, { cause: error })
  }
  const queries = createSqlQueries(db, 'postgres')
  // Lease bookkeeping (claim, heartbeat, release) commits without waiting for the WAL flush: a
  // lease lost in a database crash is safe, because every step write is fenced by the lease and
  // durable, and flushing it flushes every earlier commit too. It saves a flush on the way from
  // queueing an execution to running it.
  const leasePool = new pg.Pool({ ...config, options: '-c synchronous_commit=off', max: 2 })
  leasePool.on('error', () => undefined)
  leasePool.on('connect', (client) => client.on('error', () => undefined))
  const leaseDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: leasePool }) })
  // Claims run often and are the same few texts: each is a named statement, planned once per connection.
  const named: Reader = async (query) => {
    const { sql: text, parameters } = query.compile()
    const name = `fm_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
    return (await leasePool.query({ name, text, values: [...parameters] })).rows as never
  }
  const leases = createSqlQueries(leaseDb, 'postgres', named)
  const listener = createWorkListener(config)

  const notifyWork = (): void => {
    pool.query(`notify ${WORK_CHANNEL}`).catch(() => undefined)
  }

  /** Writes steps in one statement; answers how each came out. */
  const commit = async (steps: readonly StepWrite[]): Promise<StepOutcome[]> => {
    // Other nodes' idle workers are notified by the statement of what this batch queued, released or woke.
    const result = await pool.query<{ id: string | null }>({ name: 'fm_write_steps', text: WRITE_STEPS_SQL, values: writeStepsParameters(steps) })
    const applied = new Set(result.rows.map((r) => r.id))
    return steps.map((step) => {
      if (applied.has(step.executionId)) return true
      // The insert does nothing on any conflict: a key given is the likely one taken.
      return step.create === undefined ? new LeaseLostError(step.executionId) : creationRefused(step.create, 'key')
    })
  }
  const writes = writeHealth()
  const commits = new GroupCommit({
    commit,
    maxBatch: options.maxBatch ?? 1000,
    maxInFlight: MAX_IN_FLIGHT,
    retryOneByOne: isStatementError,
    onResult: writes.onResult,
  })

  /** The row and its runs in one snapshot: a reader never sees "completed" with its last run still running. */
  const getExecution = (id: string, limits?: ReadLimits): Promise<ExecutionDetail | undefined> =>
    db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute((trx) => queries.readExecutionIn(trx, id, limits))

  return {
    kind: 'postgres',
    write: (step) => commits.write(step),
    writesFailing: writes.failing,
    putDefinition: (hash, flow) => queries.putDefinition(hash, flow, Date.now()),
    getDefinition: queries.getDefinition,
    async registerFlow(hash, flow, at) {
      // Two registrations at once may pick the same next version; the loser tries again.
      for (let attempt = 1; ; attempt++) {
        try {
          return await queries.registerFlow(hash, flow, at)
        } catch (error) {
          if (attempt >= REGISTER_ATTEMPTS || !isUniqueViolation(error, 'flows_pkey')) throw error
        }
      }
    },
    getFlow: queries.getFlow,
    listFlows: queries.listFlows,
    getExecution,
    getExecutionRecord: queries.getExecutionRecord,
    listTaskRuns: queries.listTaskRuns,
    getTaskRun: queries.getTaskRun,
    loadForRecovery: queries.loadForRecovery,
    findExecutionByIdempotencyKey: queries.findExecutionByIdempotencyKey,
    listExecutions: queries.listExecutions,
    claim: leases.claim,
    nextWake: queries.nextWake,
    heartbeat: leases.heartbeat,
    async release(owner, ids) {
      await leases.release(owner, ids)
      notifyWork()
    },
    beat: leases.beat,
    listNodes: queries.listNodes,
    removeNode: queries.removeNode,
    listLeaseOwners: queries.listLeaseOwners,
    async requestCancel(executionId, now) {
      await queries.requestCancel(executionId, now)
      notifyWork()
    },
    async poke(executionId, now) {
      await queries.poke(executionId, now)
      notifyWork()
    },
    async addSignal(executionId, name, payloadJson, at) {
      const outcome = await queries.addSignal(executionId, name, payloadJson, at)
      if (outcome === 'added') notifyWork()
      return outcome
    },
    pendingSignals: queries.pendingSignals,
    listChildren: queries.listChildren,
    latestResults: queries.latestResults,
    listEvents: queries.listEvents,
    countQueued: queries.countQueued,
    statuses: queries.statuses,
    subscribeWork: (fn) => listener.add(fn),
    ping: queries.ping,
    async close() {
      await commits.close()
      await listener.close()
      await Promise.all([db.destroy(), leaseDb.destroy()])
    },
  }
}

/** Applies the migrations, one process at a time: the advisory lock is held on the migrating connection. */
async function migrate(db: Kysely<Database>): Promise<void> {
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(postgresMigrations) }
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK}::bigint)`.execute(conn)
    try {
      const { error, results } = await new Migrator({ db: conn, provider }).migrateToLatest()
      if (error !== undefined) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
        throw new FlowManagerError('STORE_UNAVAILABLE', `database migration ${failed} failed: ${(error as Error).message}`, { cause: error })
      }
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK}::bigint)`.execute(conn)
    }
  })
}

const sqlState = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/**
 * The server refused the statement itself (a constraint, a deadlock, a timeout), rather than the
 * connection failing: retrying steps one by one can then help.
 */
function isStatementError(error: unknown): boolean {
  const code = sqlState(error)
  return code !== undefined && !code.startsWith('08') && !code.startsWith('57P') && !code.startsWith('53')
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  return sqlState(error) === '23505' && (error as { constraint?: unknown }).constraint === constraint
}
