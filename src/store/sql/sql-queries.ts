import { sql, type CompiledQuery, type Kysely } from 'kysely'
import type { Flow } from '../../core/flow-schema.js'
import type { ClaimRequest, ExecutionDetail, ExecutionEventRecord, ExecutionFilter, ExecutionRecord, FlowRecord, HeartbeatResult, Page, RegisteredFlow } from '../store.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { eventsFromRow, executionFromRow, taskRunFromRow } from './rows.js'
import type { Database } from './schema.js'

/** A statement compiled once for the dialect, with the column name behind each placeholder. */
export interface PreparedWrite {
  readonly sql: string
  readonly order: readonly string[]
}

const SENTINEL = '\u0000fm:'

function prepare(query: { compile(): CompiledQuery }): PreparedWrite {
  const compiled = query.compile()
  const order = compiled.parameters.map((p) => {
    if (typeof p !== 'string' || !p.startsWith(SENTINEL)) throw new Error(`unnamed parameter in ${compiled.sql}`)
    return p.slice(SENTINEL.length)
  })
  return { sql: compiled.sql, order }
}

function named(names: readonly string[]): never {
  const out: Record<string, string> = {}
  for (const name of names) out[name] = `${SENTINEL}${name}`
  return out as never
}

/** A placeholder for one named value in a where clause. */
const param = (name: string): never => `${SENTINEL}${name}` as never

const STATE_COLUMNS = ['status', 'current_task', 'steps', 'step_base', 'failed_task', 'error', 'started_at', 'finished_at', 'updated_at', 'lease_expires_at', 'event_seq', 'wake_at'] as const

/** The hot-path writes of one step, compiled once per dialect from the query builder. */
export function prepareStepWrites(db: Kysely<Database>): {
  insertExecution: PreparedWrite
  updateExecution: PreparedWrite
  takeoverExecution: PreparedWrite
  interruptRun: PreparedWrite
  finishRun: PreparedWrite
  startRun: PreparedWrite
  insertEvents: PreparedWrite
} {
  return {
    insertExecution: prepare(
      db
        .insertInto('executions')
        .values(named(['id', 'flow_id', 'flow_version', 'definition_hash', 'input', 'idempotency_key', 'created_at', 'lease_owner', ...STATE_COLUMNS])),
    ),
    // Fenced: a node that lost the lease changes nothing (0 rows), and must stop.
    updateExecution: prepare(
      db
        .updateTable('executions')
        .set(named([...STATE_COLUMNS, 'lease_owner']))
        .where('id', '=', param('id'))
        .where('lease_owner', '=', param('owner')),
    ),
    takeoverExecution: prepare(
      db
        .updateTable('executions')
        .set(named([...STATE_COLUMNS, 'lease_owner']))
        .where('id', '=', param('id'))
        .where('lease_owner', 'is', null),
    ),
    interruptRun: prepare(
      db
        .updateTable('task_runs')
        .set(named(['status', 'finished_at']))
        .where('execution_id', '=', param('execution_id'))
        .where('seq', '=', param('seq')),
    ),
    insertEvents: prepare(db.insertInto('execution_events').values(named(['execution_id', 'seq', 'last_seq', 'at', 'events']))),
    finishRun: prepare(
      db
        .updateTable('task_runs')
        .set(named(['status', 'data', 'error', 'finished_at', 'duration_ms', 'next_task']))
        .where('execution_id', '=', param('execution_id'))
        .where('seq', '=', param('seq')),
    ),
    startRun: prepare(
      db.insertInto('task_runs').values(named(['execution_id', 'seq', 'task_name', 'task_type', 'attempt', 'status', 'started_at'])),
    ),
  }
}

/** The reads and the flow registry, written once with the query builder for every SQL dialect. */
export function createSqlQueries(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): {
  claim: (request: ClaimRequest) => Promise<readonly ExecutionRecord[]>
  heartbeat: (owner: string, now: number, leaseMs: number) => Promise<HeartbeatResult>
  release: (owner: string) => Promise<void>
  listLeaseOwners: () => Promise<readonly string[]>
  requestCancel: (executionId: string) => Promise<void>
  listEvents: (executionId: string, afterSeq: number, limit: number) => Promise<readonly ExecutionEventRecord[]>
  countQueued: () => Promise<number>
  putDefinition: (hash: string, flow: Flow, at: number) => Promise<void>
  getDefinition: (hash: string) => Promise<Flow | undefined>
  registerFlow: (hash: string, flow: Flow, at: number) => Promise<RegisteredFlow>
  getFlow: (id: string, version?: number) => Promise<FlowRecord | undefined>
  listFlows: (limit: number, cursor?: string) => Promise<Page<FlowRecord>>
  getExecution: (id: string) => Promise<ExecutionDetail | undefined>
  findExecutionByIdempotencyKey: (key: string) => Promise<ExecutionRecord | undefined>
  listExecutions: (filter: ExecutionFilter) => Promise<Page<ExecutionRecord>>
  listUnfinished: (limit: number) => Promise<readonly ExecutionRecord[]>
  ping: () => Promise<void>
} {
  const flowSelect = db
    .selectFrom('flows')
    .innerJoin('flow_definitions', 'flow_definitions.hash', 'flows.definition_hash')
    .select(['flows.id', 'flows.version', 'flows.definition_hash', 'flows.created_at', 'flow_definitions.definition'])
  type FlowRow = { id: string; version: number | string; definition_hash: string; created_at: number | string; definition: string }
  const toFlow = (row: FlowRow): FlowRecord => ({
    id: row.id,
    version: Number(row.version),
    definitionHash: row.definition_hash,
    createdAt: Number(row.created_at),
    flow: JSON.parse(row.definition) as Flow,
  })

  const putDefinition = async (hash: string, flow: Flow, at: number): Promise<void> => {
    await db
      .insertInto('flow_definitions')
      .values({ hash, definition: JSON.stringify(flow), created_at: at })
      .onConflict((oc) => oc.column('hash').doNothing())
      .execute()
  }

  const unfinished = ['pending', 'running']
  return {
    async claim({ owner, limit, now, leaseMs, deadOwners, onlyIds }) {
      if (limit <= 0 || onlyIds?.length === 0) return []
      const candidates = db
        .selectFrom('executions')
        .select('id')
        .where('status', 'in', unfinished)
        .$if(onlyIds !== undefined, (qb) => qb.where('id', 'in', onlyIds ?? []))
        // A retry waiting out its backoff is not due yet, unless someone wants it cancelled.
        .where((eb) => eb.or([eb('wake_at', 'is', null), eb('wake_at', '<=', now), eb('cancel_requested', '=', 1)]))
        .where((eb) =>
          eb.or([
            eb('lease_owner', 'is', null),
            eb('lease_expires_at', '<', now),
            ...(deadOwners.length > 0 ? [eb('lease_owner', 'in', deadOwners)] : []),
          ]),
        )
        .orderBy('created_at')
        .limit(limit)
        // On PostgreSQL, rows another node is claiming right now are skipped, not waited for.
        .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked())
      const rows = await db
        .updateTable('executions')
        .set({ lease_owner: owner, lease_expires_at: now + leaseMs })
        .where('id', 'in', candidates)
        .returningAll()
        .execute()
      return rows.map(executionFromRow).sort((a, b) => a.createdAt - b.createdAt)
    },
    async heartbeat(owner, now, leaseMs) {
      const rows = await db
        .updateTable('executions')
        .set({ lease_expires_at: now + leaseMs })
        .where('lease_owner', '=', owner)
        .where('status', 'in', unfinished)
        .returning(['id', 'cancel_requested'])
        .execute()
      return { cancelRequested: rows.filter((r) => Number(r.cancel_requested) !== 0).map((r) => r.id) }
    },
    async release(owner) {
      await db.updateTable('executions').set({ lease_owner: null, lease_expires_at: null }).where('lease_owner', '=', owner).execute()
    },
    async listLeaseOwners() {
      const rows = await db
        .selectFrom('executions')
        .select('lease_owner')
        .distinct()
        .where('status', 'in', unfinished)
        .where('lease_owner', 'is not', null)
        .execute()
      return rows.map((r) => r.lease_owner).filter((o): o is string => o !== null)
    },
    async requestCancel(executionId) {
      await db.updateTable('executions').set({ cancel_requested: 1 }).where('id', '=', executionId).where('status', 'in', unfinished).execute()
    },
    async listEvents(executionId, afterSeq, limit) {
      // Each row holds at least one event, so `limit` rows hold enough.
      const rows = await db
        .selectFrom('execution_events')
        .selectAll()
        .where('execution_id', '=', executionId)
        .where('last_seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute()
      return rows.flatMap(eventsFromRow).filter((e) => e.seq > afterSeq).slice(0, limit)
    },
    async countQueued() {
      const row = await db
        .selectFrom('executions')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('status', '=', 'pending')
        .where('lease_owner', 'is', null)
        .executeTakeFirst()
      return Number(row?.n ?? 0)
    },
    putDefinition,
    async getDefinition(hash) {
      const row = await db.selectFrom('flow_definitions').select('definition').where('hash', '=', hash).executeTakeFirst()
      return row === undefined ? undefined : (JSON.parse(row.definition) as Flow)
    },
    async registerFlow(hash, flow, at) {
      await putDefinition(hash, flow, at)
      // One statement picks the next version and inserts it, so two registrations cannot take the
      // same one; it inserts nothing when the latest version has this definition already.
      const row = await sql<{ version: number | string }>`
        insert into flows (id, version, definition_hash, created_at)
        select ${flow.id}, next.version, ${hash}, ${at}
        from (select coalesce(max(version), 0) + 1 as version from flows where id = ${flow.id}) next
        where not exists (
          select 1 from flows latest
          where latest.id = ${flow.id} and latest.definition_hash = ${hash} and latest.version = next.version - 1)
        returning version`.execute(db)
      const inserted = row.rows[0]
      if (inserted !== undefined) return { id: flow.id, version: Number(inserted.version), definitionHash: hash, createdAt: at, flow, created: true }
      // Unchanged: the newest version with this definition (still the latest, unless another
      // registration has just added one after it).
      const existing = await flowSelect
        .where('flows.id', '=', flow.id)
        .where('flows.definition_hash', '=', hash)
        .orderBy('flows.version', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow()
      return { ...toFlow(existing), created: false }
    },
    async getFlow(id, version) {
      let query = flowSelect.where('flows.id', '=', id)
      query = version === undefined ? query.orderBy('flows.version', 'desc').limit(1) : query.where('flows.version', '=', version)
      const row = await query.executeTakeFirst()
      return row === undefined ? undefined : toFlow(row)
    },
    async listFlows(limit, cursor) {
      let query = flowSelect.where((eb) =>
        eb('flows.version', '=', eb.selectFrom('flows as latest').select(({ fn }) => fn.max('latest.version').as('v')).whereRef('latest.id', '=', 'flows.id')),
      )
      if (cursor !== undefined) {
        const [after] = decodeCursor<[string]>(cursor, ['string'])
        query = query.where('flows.id', '>', after)
      }
      const rows = await query.orderBy('flows.id').limit(limit + 1).execute()
      const items = rows.slice(0, limit).map(toFlow)
      const last = items[items.length - 1]
      return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor([last.id]) : null }
    },
    async getExecution(id) {
      const row = await db.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst()
      if (row === undefined) return undefined
      const runs = await db.selectFrom('task_runs').selectAll().where('execution_id', '=', id).orderBy('seq').execute()
      return { execution: executionFromRow(row), runs: runs.map(taskRunFromRow) }
    },
    async findExecutionByIdempotencyKey(key) {
      const row = await db.selectFrom('executions').selectAll().where('idempotency_key', '=', key).executeTakeFirst()
      return row === undefined ? undefined : executionFromRow(row)
    },
    async listExecutions(filter) {
      let query = db.selectFrom('executions').selectAll()
      if (filter.status !== undefined) query = query.where('status', '=', filter.status)
      if (filter.flowId !== undefined) query = query.where('flow_id', '=', filter.flowId)
      if (filter.cursor !== undefined) {
        const [at, id] = decodeCursor<[number, string]>(filter.cursor, ['number', 'string'])
        query = query.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]))
      }
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit + 1).execute()
      const items = rows.slice(0, filter.limit).map(executionFromRow)
      const last = items[items.length - 1]
      return { items, nextCursor: rows.length > filter.limit && last !== undefined ? encodeCursor([last.createdAt, last.id]) : null }
    },
    async listUnfinished(limit) {
      const rows = await db.selectFrom('executions').selectAll().where('status', 'in', ['pending', 'running']).orderBy('created_at').limit(limit).execute()
      return rows.map(executionFromRow)
    },
    async ping() {
      await sql`select 1`.execute(db)
    },
  }
}
