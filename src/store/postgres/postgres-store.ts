import { Kysely, Migrator, PostgresDialect, sql, type MigrationProvider } from 'kysely'
import pg from 'pg'
import { FlowManagerError } from '../../core/errors.js'
import { createSqlQueries } from '../sql/sql-queries.js'
import { executionFromRow, taskRunFromRow } from '../sql/rows.js'
import type { ExecutionsTable, TaskRunsTable } from '../sql/schema.js'
import type { Database } from '../sql/schema.js'
import { LeaseLostError, type ExecutionDetail, type StepWrite, type Store } from '../store.js'
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

interface Pending {
  readonly step: StepWrite
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
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
  const leases = createSqlQueries(leaseDb, 'postgres')
  const listener = createWorkListener(config)

  const notifyWork = (): void => {
    pool.query(`notify ${WORK_CHANNEL}`).catch(() => undefined)
  }

  /** Writes steps in one statement; answers which executions' steps applied. */
  const writeSteps = async (steps: readonly StepWrite[]): Promise<Set<string>> => {
    const result = await pool.query<{ id: string }>({ name: 'fm_write_steps', text: WRITE_STEPS_SQL, values: writeStepsParameters(steps) })
    return new Set(result.rows.map((r) => r.id))
  }
  /**
   * Read by every node that takes over an execution, so many at a time: two prepared statements
   * in parallel rather than two built, parsed and planned one after the other.
   */
  const getExecution = async (id: string): Promise<ExecutionDetail | undefined> => {
    const [execution, runs] = await Promise.all([
      pool.query<ExecutionsTable>({ name: 'fm_get_execution', text: 'select * from executions where id = $1', values: [id] }),
      pool.query<TaskRunsTable>({ name: 'fm_get_task_runs', text: 'select * from task_runs where execution_id = $1 order by seq', values: [id] }),
    ])
    const row = execution.rows[0]
    return row === undefined ? undefined : { execution: executionFromRow(row), runs: runs.rows.map(taskRunFromRow) }
  }
  const settle = (pending: Pending, applied: Set<string>): void => {
    const { step } = pending
    if (applied.has(step.executionId)) return pending.resolve()
    if (step.create === undefined) return pending.reject(new LeaseLostError(step.executionId))
    const key = step.create.idempotencyKey
    pending.reject(
      key === null
        ? new FlowManagerError('INTERNAL', `execution id "${step.executionId}" is taken`)
        : new FlowManagerError('IDEMPOTENCY_KEY_REUSED', `idempotency key "${key}" is taken by another execution`),
    )
  }
  const commit = async (batch: readonly Pending[]): Promise<void> => {
    let applied: Set<string>
    try {
      applied = await writeSteps(batch.map((p) => p.step))
    } catch (error) {
      if (batch.length === 1 || !isStatementError(error)) {
        for (const pending of batch) pending.reject(error)
        return
      }
      // One bad step must not fail the others: retry each on its own.
      await Promise.all(
        batch.map(async (pending) => {
          try {
            settle(pending, await writeSteps([pending.step]))
          } catch (stepError) {
            pending.reject(stepError)
          }
        }),
      )
      return
    }
    for (const pending of batch) settle(pending, applied)
    if (batch.some((p) => p.step.create !== undefined && p.step.leaseExpiresAt === null)) notifyWork()
  }

  const maxBatch = options.maxBatch ?? 1000
  let queue: Pending[] = []
  let inFlight = 0
  let scheduled = false
  let closed = false
  const idleWaiters: (() => void)[] = []

  /** The next batch: up to maxBatch steps, one per execution (a later one waits for the next batch). */
  const take = (): Pending[] => {
    const ids = new Set<string>()
    const batch: Pending[] = []
    const rest: Pending[] = []
    for (const pending of queue) {
      if (batch.length < maxBatch && !ids.has(pending.step.executionId)) {
        ids.add(pending.step.executionId)
        batch.push(pending)
      } else rest.push(pending)
    }
    queue = rest
    return batch
  }
  const flush = (): void => {
    scheduled = false
    while (queue.length > 0 && inFlight < MAX_IN_FLIGHT) {
      const batch = take()
      inFlight++
      void commit(batch).finally(() => {
        inFlight--
        if (queue.length > 0) schedule()
        else if (inFlight === 0) for (const resolve of idleWaiters.splice(0)) resolve()
      })
    }
  }
  const schedule = (): void => {
    if (!scheduled && inFlight < MAX_IN_FLIGHT) {
      scheduled = true
      setImmediate(flush)
    }
  }
  const drained = (): Promise<void> =>
    queue.length === 0 && inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve))

  return {
    kind: 'postgres',
    write(step) {
      if (closed) return Promise.reject(new FlowManagerError('STORE_UNAVAILABLE', 'the store is closed'))
      return new Promise<void>((resolve, reject) => {
        queue.push({ step, resolve, reject })
        schedule()
      })
    },
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
    findExecutionByIdempotencyKey: queries.findExecutionByIdempotencyKey,
    listExecutions: queries.listExecutions,
    listUnfinished: queries.listUnfinished,
    claim: leases.claim,
    heartbeat: leases.heartbeat,
    async release(owner) {
      await leases.release(owner)
      notifyWork()
    },
    listLeaseOwners: queries.listLeaseOwners,
    async requestCancel(executionId) {
      await queries.requestCancel(executionId)
      notifyWork()
    },
    listEvents: queries.listEvents,
    countQueued: queries.countQueued,
    subscribeWork: (fn) => listener.add(fn),
    ping: queries.ping,
    async close() {
      if (closed) return
      closed = true
      await drained()
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
