import type { ExecutionStatus } from '../../core/execution-state.js'
import { sql, type CompiledQuery, type Kysely, type Transaction } from 'kysely'
import type { Flow } from '../../core/flow-schema.js'
import {
  NEVER,
  type ClaimRequest,
  type ExecutionDetail,
  type ExecutionEventRecord,
  type ExecutionFilter,
  type ClaimedExecution,
  type ExecutionRecord,
  type FlowRecord,
  type HeartbeatResult,
  type NodeRecord,
  type Page,
  type ReadLimits,
  type RecoverySnapshot,
  type RegisteredFlow,
  type SignalRecord,
  type TaskRunRecord,
} from '../store.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { eventsFromRow, executionFromRow, signalFromRow, taskRunFromRow } from './rows.js'
import type { Database } from './schema.js'

const UNFINISHED = ['pending', 'running']
/** The run columns but `data` and `items`: bounded reads select data apart. */
const RUN_META = [
  'execution_id',
  'seq',
  'task_name',
  'task_type',
  'attempt',
  'status',
  'error',
  'started_at',
  'finished_at',
  'duration_ms',
  'next_task',
  'parent_seq',
  'branch',
  'item_index',
  'waiting_for',
  'retry_at',
] as const

type Db = Kysely<Database> | Transaction<Database>

/** A query built with Kysely (a read, or a claim's update that returns its rows), as a reader runs it. */
export interface ReadQuery<O> {
  compile(): CompiledQuery<O>
  execute(): Promise<O[]>
}
/**
 * Runs a read, or a claim. By default through Kysely's driver; the SQLite store runs them at once
 * on its connection instead, with statements prepared once (see sqlite-store.ts), and the
 * PostgreSQL store as named statements, which each connection parses and plans once.
 */
export type Reader = <O>(query: ReadQuery<O>) => Promise<O[]>
const throughDriver: Reader = (query) => query.execute()

/**
 * Which runs of a newest-first list keep their data within `maxBytes`: the seq from which they
 * do, or one past the newest when even its data is over the budget.
 */
export function dataFrom(sizes: readonly { seq: number | string; bytes: number | string | null }[], maxBytes: number): number {
  let budget = maxBytes
  let from = Number(sizes[0]?.seq ?? 0) + 1
  for (const s of sizes) {
    const bytes = Number(s.bytes ?? 0)
    if (bytes > budget) break
    budget -= bytes
    from = Number(s.seq)
  }
  return from
}

/** The reads, claims and the flow registry, written once with the query builder for every SQL dialect. */
export function createSqlQueries(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', read: Reader = throughDriver) {
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
  const lock = dialect === 'postgres'

  const latestResults = async (q: Db, id: string, run: Reader = throughDriver): Promise<TaskRunRecord[]> => {
    const latest = q
      .selectFrom('task_runs')
      .select(['task_name', (eb) => eb.fn.max('seq').as('last')])
      .where('execution_id', '=', id)
      .where('item_index', 'is', null)
      .where('status', 'in', ['success', 'failure'])
      .groupBy('task_name')
      .as('l')
    const rows = await run(q.selectFrom('task_runs as t').innerJoin(latest, (join) => join.onRef('t.seq', '=', 'l.last')).selectAll('t').where('t.execution_id', '=', id).orderBy('t.seq'))
    return rows.map(taskRunFromRow)
  }

  /** One execution and its latest runs, within the limits, read in one snapshot. */
  const readExecution = async (q: Db, id: string, limits: ReadLimits | undefined): Promise<ExecutionDetail | undefined> => {
    const row = await q.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst()
    if (row === undefined) return undefined
    const execution = executionFromRow(row)
    if (limits === undefined) {
      const runs = await q.selectFrom('task_runs').selectAll().where('execution_id', '=', id).orderBy('seq').execute()
      return { execution, runs: runs.map(taskRunFromRow), totalRuns: runs.length }
    }
    const sizes = await q
      .selectFrom('task_runs')
      .select(['seq', sql<number>`coalesce(length(data), 0)`.as('bytes')])
      .where('execution_id', '=', id)
      .orderBy('seq', 'desc')
      .limit(limits.maxRuns)
      .execute()
    // No run, or none asked for.
    if (sizes.length === 0) return { execution, runs: [], totalRuns: execution.seq }
    const first = Number(sizes[sizes.length - 1]?.seq)
    // No run's data fits: cut above the latest run. A bound that fits an integer column, since
    // PostgreSQL refuses to compare one with a larger parameter.
    const found = dataFrom(sizes, limits.maxDataBytes)
    const from = found === Infinity ? execution.seq + 1 : found
    const runs = await q
      .selectFrom('task_runs')
      .select([...RUN_META, sql<string | null>`case when seq >= ${from} then data end`.as('data')])
      .select(sql<number>`case when seq < ${from} and data is not null then 1 else 0 end`.as('omitted'))
      .where('execution_id', '=', id)
      .where('seq', '>=', first)
      .orderBy('seq')
      .execute()
    return { execution, runs: runs.map(taskRunFromRow), totalRuns: execution.seq }
  }

  const claimWhere = async ({ owner, limit, now, leaseMs, onlyIds }: ClaimRequest, owned: boolean, deadOwners: readonly string[]): Promise<ExecutionRecord[]> => {
    if (limit <= 0) return []
    const candidates = db
      .selectFrom('executions')
      .select('id')
      .where('status', 'in', UNFINISHED)
      .$if(onlyIds !== undefined, (qb) => qb.where('id', 'in', onlyIds ?? []))
      .$if(owned, (qb) =>
        qb
          .where('lease_owner', 'is not', null)
          .where((eb) => eb.or([eb('lease_expires_at', '<', now), ...(deadOwners.length > 0 ? [eb('lease_owner', 'in', deadOwners)] : [])]))
          .orderBy('created_at'),
      )
      .$if(!owned, (qb) => qb.where('lease_owner', 'is', null).where('wake_at', '<=', now).orderBy('wake_at'))
      .limit(limit)
      // On PostgreSQL, rows another node is claiming right now are skipped, not waited for.
      .$if(lock, (qb) => qb.forUpdate().skipLocked())
    const rows = await read(
      db.updateTable('executions').set({ lease_owner: owner, lease_expires_at: now + leaseMs, wake_at: null }).where('id', 'in', candidates).returningAll(),
    )
    return rows.map(executionFromRow)
  }

  // The same wake-up as a step's (columns.ts), with `now` as a parameter.
  const wakeSet = (now: number) => ({
    poke: sql<number>`poke + 1`,
    wake_at: sql<number | null>`case when lease_owner is null and (wake_at is null or wake_at > ${now}) then ${now} else wake_at end`,
  })

  return {
    latestResults: (id: string) => latestResults(db, id),
    readExecution: (id: string, limits?: ReadLimits) => readExecution(db, id, limits),
    /** Run inside a repeatable-read transaction on PostgreSQL so that the row and its runs agree. */
    readExecutionIn: (q: Db, id: string, limits?: ReadLimits) => readExecution(q, id, limits),
    latestResultsIn: latestResults,
    claim: async (request: ClaimRequest): Promise<readonly ClaimedExecution[]> => {
      if (request.onlyIds?.length === 0) return []
      // Work cut off by a stopped owner first, then what is due, oldest first.
      const recovered = request.recover === false ? [] : await claimWhere(request, true, request.deadOwners)
      const due = await claimWhere({ ...request, limit: request.limit - recovered.length }, false, [])
      return [...recovered.map((e) => ({ ...e, takenOver: true })), ...due.map((e) => ({ ...e, takenOver: false }))]
    },
    nextWake: async (): Promise<number | null> => {
      const row = await db
        .selectFrom('executions')
        .select((eb) => eb.fn.min('wake_at').as('next'))
        .where('status', 'in', UNFINISHED)
        .where('lease_owner', 'is', null)
        .where('wake_at', '<', NEVER)
        .executeTakeFirst()
      return row?.next === null || row?.next === undefined ? null : Number(row.next)
    },
    heartbeat: async (owner: string, ids: readonly string[], now: number, leaseMs: number): Promise<HeartbeatResult> => {
      if (ids.length === 0) return { cancelRequested: [], pokes: [] }
      const rows = await db
        .updateTable('executions')
        .set({ lease_expires_at: now + leaseMs })
        .where('lease_owner', '=', owner)
        .where('id', 'in', ids)
        .where('status', 'in', UNFINISHED)
        .returning(['id', 'cancel_requested', 'poke'])
        .execute()
      return {
        cancelRequested: rows.filter((r) => Number(r.cancel_requested) !== 0).map((r) => r.id),
        pokes: rows.map((r) => ({ id: r.id, poke: Number(r.poke) })),
      }
    },
    release: async (owner: string, ids?: readonly string[]): Promise<void> => {
      if (ids?.length === 0) return
      await db
        .updateTable('executions')
        .set({ lease_owner: null, lease_expires_at: null, wake_at: sql`coalesce(wake_at, 0)` })
        .where('lease_owner', '=', owner)
        .$if(ids !== undefined, (qb) => qb.where('id', 'in', ids ?? []))
        .execute()
    },
    beat: async (node: NodeRecord): Promise<void> => {
      const row = { id: node.id, host: node.host, pid: node.pid, machine: node.machine, started_at: node.startedAt, beat_at: node.beatAt }
      await db
        .insertInto('nodes')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet({ beat_at: node.beatAt }))
        .execute()
    },
    listNodes: async (): Promise<NodeRecord[]> => {
      const rows = await db.selectFrom('nodes').selectAll().execute()
      return rows.map((r) => ({ id: r.id, host: r.host, pid: Number(r.pid), machine: r.machine, startedAt: Number(r.started_at), beatAt: Number(r.beat_at) }))
    },
    removeNode: async (id: string): Promise<void> => {
      await db.deleteFrom('nodes').where('id', '=', id).execute()
    },
    listLeaseOwners: async (): Promise<string[]> => {
      const rows = await db.selectFrom('executions').select('lease_owner').distinct().where('status', 'in', UNFINISHED).where('lease_owner', 'is not', null).execute()
      return rows.map((r) => r.lease_owner).filter((o): o is string => o !== null)
    },
    requestCancel: async (id: string, now: number): Promise<void> => {
      await db
        .updateTable('executions')
        .set({ cancel_requested: 1, ...wakeSet(now) })
        .where('id', '=', id)
        .where('status', 'in', UNFINISHED)
        .execute()
    },
    poke: async (id: string, now: number): Promise<void> => {
      await db.updateTable('executions').set(wakeSet(now)).where('id', '=', id).where('status', 'in', UNFINISHED).execute()
    },
    addSignal: async (id: string, name: string, payloadJson: string, at: number): Promise<'added' | 'not_found' | 'finished'> => {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('executions')
          .select('status')
          .where('id', '=', id)
          .$if(lock, (qb) => qb.forUpdate())
          .executeTakeFirst()
        if (row === undefined) return 'not_found'
        if (!UNFINISHED.includes(row.status)) return 'finished'
        await sql`insert into signals (execution_id, seq, name, payload, created_at, consumed_by)
          select ${id}, coalesce(max(seq), 0) + 1, ${name}, ${payloadJson}, ${at}, null from signals where execution_id = ${id}`.execute(trx)
        await trx.updateTable('executions').set(wakeSet(at)).where('id', '=', id).execute()
        return 'added'
      })
    },
    pendingSignals: async (id: string, limit: number): Promise<SignalRecord[]> => {
      const rows = await db.selectFrom('signals').selectAll().where('execution_id', '=', id).where('consumed_by', 'is', null).orderBy('seq').limit(limit).execute()
      return rows.map(signalFromRow)
    },
    listChildren: async (parentId: string, seqs: readonly number[]): Promise<ExecutionRecord[]> => {
      if (seqs.length === 0) return []
      const rows = await db.selectFrom('executions').selectAll().where('parent_execution_id', '=', parentId).where('parent_seq', 'in', seqs).execute()
      return rows.map(executionFromRow)
    },
    loadForRecovery: async (id: string): Promise<RecoverySnapshot | undefined> => {
      const [row] = await read(db.selectFrom('executions').selectAll().where('id', '=', id))
      if (row === undefined) return undefined
      const open = await read(db.selectFrom('task_runs').selectAll().where('execution_id', '=', id).where('status', 'in', ['running', 'waiting']).orderBy('seq'))
      const fanouts = await Promise.all(
        open
          .filter((r) => r.items !== null)
          .map(async (r) => {
            const ended = await read(
              db.selectFrom('task_runs').selectAll().where('execution_id', '=', id).where('parent_seq', '=', r.seq).where('item_index', 'is not', null).where('status', '=', 'success'),
            )
            return { seq: Number(r.seq), items: JSON.parse(r.items ?? '[]') as unknown[], ended: ended.map(taskRunFromRow) }
          }),
      )
      return { execution: executionFromRow(row), latest: await latestResults(db, id, read), open: open.map(taskRunFromRow), fanouts }
    },
    listTaskRuns: async (id: string, afterSeq: number, limit: number, maxBytes: number): Promise<TaskRunRecord[]> => {
      const sizes = await db
        .selectFrom('task_runs')
        .select(['seq', sql<number>`coalesce(length(data), 0)`.as('bytes')])
        .where('execution_id', '=', id)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute()
      if (sizes.length === 0) return []
      let last = Number(sizes[0]?.seq)
      let bytes = Number(sizes[0]?.bytes ?? 0)
      for (const s of sizes.slice(1)) {
        bytes += Number(s.bytes ?? 0)
        if (bytes > maxBytes) break
        last = Number(s.seq)
      }
      const rows = await db.selectFrom('task_runs').selectAll().where('execution_id', '=', id).where('seq', '>', afterSeq).where('seq', '<=', last).orderBy('seq').execute()
      return rows.map(taskRunFromRow)
    },
    getTaskRun: async (id: string, seq: number): Promise<TaskRunRecord | undefined> => {
      const row = await db.selectFrom('task_runs').selectAll().where('execution_id', '=', id).where('seq', '=', seq).executeTakeFirst()
      return row === undefined ? undefined : taskRunFromRow(row)
    },
    listEvents: async (executionId: string, afterSeq: number, limit: number): Promise<ExecutionEventRecord[]> => {
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
    statuses: async (ids: readonly string[]): Promise<ReadonlyMap<string, ExecutionStatus>> => {
      if (ids.length === 0) return new Map()
      const rows = await db.selectFrom('executions').select(['id', 'status']).where('id', 'in', ids).execute()
      return new Map(rows.map((r) => [r.id, r.status as ExecutionStatus]))
    },
    countQueued: async (): Promise<number> => {
      const row = await db
        .selectFrom('executions')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('status', '=', 'pending')
        .where('lease_owner', 'is', null)
        .executeTakeFirst()
      return Number(row?.n ?? 0)
    },
    putDefinition,
    getDefinition: async (hash: string): Promise<Flow | undefined> => {
      const row = await db.selectFrom('flow_definitions').select('definition').where('hash', '=', hash).executeTakeFirst()
      return row === undefined ? undefined : (JSON.parse(row.definition) as Flow)
    },
    registerFlow: async (hash: string, flow: Flow, at: number): Promise<RegisteredFlow> => {
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
    getFlow: async (id: string, version?: number): Promise<FlowRecord | undefined> => {
      let query = flowSelect.where('flows.id', '=', id)
      query = version === undefined ? query.orderBy('flows.version', 'desc').limit(1) : query.where('flows.version', '=', version)
      const row = await query.executeTakeFirst()
      return row === undefined ? undefined : toFlow(row)
    },
    listFlows: async (limit: number, cursor?: string): Promise<Page<FlowRecord>> => {
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
    findExecutionByIdempotencyKey: async (key: string): Promise<ExecutionRecord | undefined> => {
      const row = await db.selectFrom('executions').selectAll().where('idempotency_key', '=', key).executeTakeFirst()
      return row === undefined ? undefined : executionFromRow(row)
    },
    getExecutionRecord: async (id: string): Promise<ExecutionRecord | undefined> => {
      const row = await db.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst()
      return row === undefined ? undefined : executionFromRow(row)
    },
    listExecutions: async (filter: ExecutionFilter): Promise<Page<ExecutionRecord>> => {
      let query = db.selectFrom('executions').selectAll()
      if (filter.status !== undefined) query = query.where('status', '=', filter.status)
      if (filter.flowId !== undefined) query = query.where('flow_id', '=', filter.flowId)
      if (filter.parentExecutionId !== undefined) query = query.where('parent_execution_id', '=', filter.parentExecutionId)
      // A range on the primary key, so that the index answers: ids starting with the prefix sort
      // between it and it followed by the highest code point (byte order on both databases).
      if (filter.idPrefix !== undefined) query = query.where('id', '>=', filter.idPrefix).where('id', '<', `${filter.idPrefix}\u{10FFFF}`)
      if (filter.createdAfter !== undefined) query = query.where('created_at', '>=', filter.createdAfter)
      if (filter.createdBefore !== undefined) query = query.where('created_at', '<', filter.createdBefore)
      if (filter.ids !== undefined) query = query.where('id', 'in', filter.ids.length === 0 ? [''] : [...filter.ids])
      const since = filter.changedSince
      if (since !== undefined) {
        // Two halves, each read from its own index (the partial one of unfinished executions, and
        // finished_at's); written as one OR, both databases would rather scan the whole table.
        const changed = db
          .selectFrom('executions')
          .select('id')
          .where('status', 'in', UNFINISHED)
          .where('updated_at', '>=', since)
          .unionAll(db.selectFrom('executions').select('id').where('finished_at', '>=', since))
        query = query.where('id', 'in', changed)
      }
      if (filter.cursor !== undefined) {
        const [at, id] = decodeCursor<[number, string]>(filter.cursor, ['number', 'string'])
        query = query.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]))
      }
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit + 1).execute()
      const items = rows.slice(0, filter.limit).map(executionFromRow)
      const last = items[items.length - 1]
      return { items, nextCursor: rows.length > filter.limit && last !== undefined ? encodeCursor([last.createdAt, last.id]) : null }
    },
    ping: async (): Promise<void> => {
      await sql`select 1`.execute(db)
    },
  }
}

export type SqlQueries = ReturnType<typeof createSqlQueries>
