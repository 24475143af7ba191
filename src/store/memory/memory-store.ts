import type { ExecutionStatus } from '../../core/execution-state.js'
import type { Flow } from '../../core/flow-schema.js'
import { creationRefused } from '../creation-refused.js'
import { decodeCursor, encodeCursor } from '../sql/cursor.js'
import {
  LeaseLostError,
  NEVER,
  storedWakeAt,
  wokenWakeAt,
  type ExecutionEventRecord,
  type ExecutionFilter,
  type ClaimedExecution,
  type ExecutionRecord,
  type FlowRecord,
  type NewExecution,
  type NodeRecord,
  type SignalRecord,
  type StepWrite,
  type Store,
  type TaskRunRecord,
} from '../store.js'
import { boundRuns, dataBytes, latestByTask } from '../bounded-runs.js'
import { applyRunWrite } from '../run-records.js'

interface Row {
  execution: ExecutionRecord
  updatedAt: number
  leaseExpiresAt: number | null
  readonly runs: TaskRunRecord[]
  readonly items: Map<number, readonly unknown[]>
  readonly events: ExecutionEventRecord[]
  readonly signals: (SignalRecord & { consumedBy: number | null })[]
}

const unfinished = (e: ExecutionRecord): boolean => e.status === 'pending' || e.status === 'running'

function newRecord(create: NewExecution): ExecutionRecord {
  return {
    id: create.id,
    flowId: create.flowId,
    flowVersion: create.flowVersion,
    definitionHash: create.definitionHash,
    input: JSON.parse(create.inputJson) as unknown,
    idempotencyKey: create.idempotencyKey,
    createdAt: create.createdAt,
    status: 'pending',
    currentTask: null,
    steps: 0,
    stepBase: 0,
    seq: 0,
    failedTask: null,
    error: null,
    deadline: null,
    threads: [],
    nextThread: 0,
    startedAt: null,
    finishedAt: null,
    leaseOwner: null,
    wakeAt: null,
    cancelRequested: false,
    eventSeq: 0,
    storedBytes: 0,
    poke: 0,
    parent: create.parent ?? null,
    depth: create.depth ?? 0,
  }
}

/** Whether an execution passes a listing's filter, as the SQL stores' where clause decides it. */
function matches(e: ExecutionRecord, updatedAt: number, filter: ExecutionFilter): boolean {
  const since = filter.changedSince
  return (
    (filter.status === undefined || e.status === filter.status) &&
    (filter.flowId === undefined || e.flowId === filter.flowId) &&
    (filter.parentExecutionId === undefined || e.parent?.executionId === filter.parentExecutionId) &&
    (filter.idPrefix === undefined || e.id.startsWith(filter.idPrefix)) &&
    (filter.createdAfter === undefined || e.createdAt >= filter.createdAfter) &&
    (filter.createdBefore === undefined || e.createdAt < filter.createdBefore) &&
    (filter.ids === undefined || filter.ids.includes(e.id)) &&
    (since === undefined || (unfinished(e) && updatedAt >= since) || (e.finishedAt !== null && e.finishedAt >= since))
  )
}

/**
 * A store that keeps everything in this process's memory and nothing on disk: for tests and
 * throwaway runs. Writes apply at once and return nothing to await.
 */
export function createMemoryStore(): Store {
  const rows = new Map<string, Row>()
  const byKey = new Map<string, string>()
  const definitions = new Map<string, Flow>()
  const flows = new Map<string, FlowRecord[]>()
  const nodes = new Map<string, NodeRecord>()

  const insert = (create: NewExecution): Row => {
    if (rows.has(create.id)) throw creationRefused(create, 'id')
    if (create.idempotencyKey !== null && byKey.has(create.idempotencyKey)) throw creationRefused(create, 'key')
    if (create.idempotencyKey !== null) byKey.set(create.idempotencyKey, create.id)
    const row: Row = { execution: newRecord(create), updatedAt: create.createdAt, leaseExpiresAt: null, runs: [], items: new Map(), events: [], signals: [] }
    rows.set(create.id, row)
    return row
  }

  const apply = (step: StepWrite): void => {
    const existing = rows.get(step.executionId)
    if (step.create === undefined) {
      if (existing === undefined) throw new LeaseLostError(step.executionId)
      const holder = step.takeover === true ? null : step.owner
      if (existing.execution.leaseOwner !== holder) throw new LeaseLostError(step.executionId)
    }
    const row = step.create === undefined ? (existing as Row) : insert(step.create)
    const { state } = step
    row.execution = {
      ...row.execution,
      status: state.status,
      currentTask: state.currentTask,
      steps: state.steps,
      stepBase: state.stepBase,
      seq: state.seq,
      failedTask: state.failedTask,
      error: state.error,
      deadline: state.deadline,
      threads: state.threads,
      nextThread: state.nextThread,
      startedAt: state.startedAt,
      finishedAt: state.finishedAt,
      eventSeq: state.eventSeq,
      storedBytes: state.storedBytes,
      leaseOwner: step.leaseExpiresAt === null ? null : step.owner,
      wakeAt: step.pokeSeen !== undefined && row.execution.poke > step.pokeSeen ? wokenWakeAt(step) : storedWakeAt(step),
      ...(state.inputJson === undefined ? {} : { input: JSON.parse(state.inputJson) as unknown }),
    }
    row.leaseExpiresAt = step.leaseExpiresAt
    row.updatedAt = state.updatedAt
    for (const w of step.runs) {
      if (w.kind === 'start' && w.itemsJson !== undefined) row.items.set(w.seq, JSON.parse(w.itemsJson) as unknown[])
      applyRunWrite(row.runs, step.executionId, w)
    }
    for (const e of step.events) row.events.push({ executionId: step.executionId, seq: e.seq, type: e.type, at: e.at, taskName: e.taskName, data: e.data })
    for (const child of step.children ?? []) {
      // Created queued, due at its creation; one whose id or key is taken is left out, as on the SQL stores.
      if (!rows.has(child.id) && (child.idempotencyKey === null || !byKey.has(child.idempotencyKey))) {
        const created = insert(child)
        created.execution = { ...created.execution, wakeAt: child.createdAt }
      }
    }
    for (const child of step.cancelChildren ?? []) {
      const r = rows.get(child)
      if (r !== undefined && unfinished(r.execution)) {
        r.execution = { ...r.execution, cancelRequested: true }
        wake(child, state.updatedAt)
      }
    }
    for (const c of step.consumeSignals ?? []) {
      const signal = row.signals.find((s) => s.seq === c.signalSeq)
      if (signal !== undefined && signal.consumedBy === null) signal.consumedBy = c.runSeq
    }
    if (step.wakeParent !== undefined) wake(step.wakeParent, state.updatedAt)
  }

  const wake = (id: string, now: number): void => {
    const row = rows.get(id)
    if (row === undefined || !unfinished(row.execution)) return
    const e = row.execution
    row.execution = { ...e, poke: e.poke + 1, wakeAt: e.leaseOwner === null && (e.wakeAt === null || e.wakeAt > now) ? now : e.wakeAt }
  }

  const page = <T>(all: readonly T[], limit: number, key: (item: T) => (string | number)[]): { items: T[]; nextCursor: string | null } => {
    const items = all.slice(0, limit)
    const last = items.at(-1)
    return { items, nextCursor: all.length > limit && last !== undefined ? encodeCursor(key(last)) : null }
  }

  return {
    kind: 'memory',
    write(step) {
      apply(step)
      return undefined
    },
    putDefinition(hash, flow) {
      if (!definitions.has(hash)) definitions.set(hash, flow)
      return Promise.resolve()
    },
    getDefinition: (hash) => Promise.resolve(definitions.get(hash)),
    registerFlow(hash, flow, at) {
      if (!definitions.has(hash)) definitions.set(hash, flow)
      const versions = flows.get(flow.id) ?? []
      const latest = versions.at(-1)
      if (latest?.definitionHash === hash) return Promise.resolve({ ...latest, created: false })
      const record: FlowRecord = { id: flow.id, version: versions.length + 1, definitionHash: hash, flow, createdAt: at }
      versions.push(record)
      flows.set(flow.id, versions)
      return Promise.resolve({ ...record, created: true })
    },
    getFlow(id, version) {
      const versions = flows.get(id) ?? []
      return Promise.resolve(version === undefined ? versions.at(-1) : versions[version - 1])
    },
    async listFlows(limit, cursor) {
      // Decoded inside the promise, so that a bad cursor rejects rather than throws.
      const after = cursor === undefined ? undefined : (await Promise.resolve(decodeCursor<[string]>(cursor, ['string'])))[0]
      const ids = [...flows.keys()].sort().filter((id) => after === undefined || id > after)
      const latest = ids.map((id) => (flows.get(id) ?? []).at(-1)).filter((f): f is FlowRecord => f !== undefined)
      return page(latest, limit, (f) => [f.id])
    },
    getExecution(id, limits) {
      const row = rows.get(id)
      if (row === undefined) return Promise.resolve(undefined)
      if (limits === undefined) return Promise.resolve({ execution: row.execution, runs: [...row.runs], totalRuns: row.runs.length })
      return Promise.resolve({ execution: row.execution, runs: boundRuns(row.runs, limits), totalRuns: row.runs.length })
    },
    getExecutionRecord: (id) => Promise.resolve(rows.get(id)?.execution),
    listTaskRuns(id, afterSeq, limit, maxBytes) {
      const out: TaskRunRecord[] = []
      let bytes = 0
      for (const run of rows.get(id)?.runs ?? []) {
        if (run.seq <= afterSeq) continue
        const size = dataBytes(run)
        if (out.length >= limit || (out.length > 0 && bytes + size > maxBytes)) break
        bytes += size
        out.push(run)
      }
      return Promise.resolve(out)
    },
    getTaskRun: (id, seq) => Promise.resolve(rows.get(id)?.runs.find((r) => r.seq === seq)),
    loadForRecovery(id) {
      const row = rows.get(id)
      if (row === undefined) return Promise.resolve(undefined)
      const open = row.runs.filter((r) => r.status === 'running' || r.status === 'waiting')
      const fanouts = open
        .filter((r) => row.items.has(r.seq))
        .map((r) => ({ seq: r.seq, items: row.items.get(r.seq) ?? [], ended: row.runs.filter((x) => x.parentSeq === r.seq && x.itemIndex !== null && x.status === 'success') }))
      return Promise.resolve({ execution: row.execution, latest: latestByTask(row.runs), open, fanouts })
    },
    findExecutionByIdempotencyKey(key) {
      const id = byKey.get(key)
      return Promise.resolve(id === undefined ? undefined : rows.get(id)?.execution)
    },
    async listExecutions(filter) {
      const after = filter.cursor === undefined ? undefined : await Promise.resolve(decodeCursor<[number, string]>(filter.cursor, ['number', 'string']))
      const all = [...rows.values()]
        .filter((r) => matches(r.execution, r.updatedAt, filter))
        .map((r) => r.execution)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .filter((e) => after === undefined || e.createdAt < after[0] || (e.createdAt === after[0] && e.id < after[1]))
      return page(all, filter.limit, (e) => [e.createdAt, e.id])
    },
    claim({ owner, limit, now, leaseMs, deadOwners, onlyIds, recover = true }) {
      const candidates = [...rows.values()].filter((r) => unfinished(r.execution) && (onlyIds === undefined || onlyIds.includes(r.execution.id)))
      // Work cut off by a stopped owner first, oldest first; then what is due, earliest first.
      const cutOff = candidates
        .filter((r) => recover && r.execution.leaseOwner !== null && ((r.leaseExpiresAt ?? 0) < now || deadOwners.includes(r.execution.leaseOwner)))
        .sort((a, b) => a.execution.createdAt - b.execution.createdAt)
      const due = candidates
        .filter((r) => r.execution.leaseOwner === null && (r.execution.wakeAt === null || r.execution.wakeAt <= now))
        .sort((a, b) => (a.execution.wakeAt ?? 0) - (b.execution.wakeAt ?? 0))
      const claimed: ClaimedExecution[] = []
      for (const row of [...cutOff, ...due].slice(0, Math.max(0, limit))) {
        const takenOver = row.execution.leaseOwner !== null
        row.execution = { ...row.execution, leaseOwner: owner, wakeAt: null }
        row.leaseExpiresAt = now + leaseMs
        claimed.push({ ...row.execution, takenOver })
      }
      return Promise.resolve(claimed)
    },
    nextWake() {
      let next: number | null = null
      for (const row of rows.values()) {
        const e = row.execution
        if (!unfinished(e) || e.leaseOwner !== null || e.wakeAt === null || e.wakeAt >= NEVER) continue
        if (next === null || e.wakeAt < next) next = e.wakeAt
      }
      return Promise.resolve(next)
    },
    heartbeat(owner, ids, now, leaseMs) {
      const cancelRequested: string[] = []
      const pokes: { id: string; poke: number }[] = []
      for (const id of ids) {
        const row = rows.get(id)
        if (row === undefined || row.execution.leaseOwner !== owner || !unfinished(row.execution)) continue
        row.leaseExpiresAt = now + leaseMs
        if (row.execution.cancelRequested) cancelRequested.push(id)
        pokes.push({ id, poke: row.execution.poke })
      }
      return Promise.resolve({ cancelRequested, pokes })
    },
    release(owner, ids) {
      for (const row of rows.values()) {
        if (row.execution.leaseOwner === owner && (ids === undefined || ids.includes(row.execution.id))) {
          // Due at once, as on the SQL stores.
          row.execution = { ...row.execution, leaseOwner: null, wakeAt: row.execution.wakeAt ?? 0 }
          row.leaseExpiresAt = null
        }
      }
      return Promise.resolve()
    },
    beat(node) {
      nodes.set(node.id, node)
      return Promise.resolve()
    },
    listNodes: () => Promise.resolve([...nodes.values()]),
    removeNode(id) {
      nodes.delete(id)
      return Promise.resolve()
    },
    listLeaseOwners() {
      const owners = new Set<string>()
      for (const row of rows.values()) if (unfinished(row.execution) && row.execution.leaseOwner !== null) owners.add(row.execution.leaseOwner)
      return Promise.resolve([...owners])
    },
    requestCancel(id, now) {
      const row = rows.get(id)
      if (row !== undefined && unfinished(row.execution)) {
        row.execution = { ...row.execution, cancelRequested: true }
        wake(id, now)
      }
      return Promise.resolve()
    },
    poke(id, now) {
      wake(id, now)
      return Promise.resolve()
    },
    addSignal(id, name, payloadJson, at) {
      const row = rows.get(id)
      if (row === undefined) return Promise.resolve('not_found' as const)
      if (!unfinished(row.execution)) return Promise.resolve('finished' as const)
      row.signals.push({ seq: row.signals.length + 1, name, payload: JSON.parse(payloadJson) as unknown, createdAt: at, consumedBy: null })
      wake(id, at)
      return Promise.resolve('added' as const)
    },
    pendingSignals(id, limit) {
      const pending = (rows.get(id)?.signals ?? []).filter((s) => s.consumedBy === null).slice(0, limit)
      return Promise.resolve(pending.map(({ seq, name, payload, createdAt }) => ({ seq, name, payload, createdAt })))
    },
    listChildren(parentId, seqs) {
      const out: ExecutionRecord[] = []
      for (const row of rows.values()) {
        const p = row.execution.parent
        if (p?.executionId === parentId && seqs.includes(p.seq)) out.push(row.execution)
      }
      return Promise.resolve(out)
    },
    latestResults: (id) => Promise.resolve(latestByTask(rows.get(id)?.runs ?? [])),
    listEvents(id, afterSeq, limit) {
      return Promise.resolve((rows.get(id)?.events ?? []).filter((e) => e.seq > afterSeq).slice(0, limit))
    },
    statuses(ids) {
      const out = new Map<string, ExecutionStatus>()
      for (const id of ids) {
        const status = rows.get(id)?.execution.status
        if (status !== undefined) out.set(id, status)
      }
      return Promise.resolve(out)
    },
    countQueued() {
      let n = 0
      for (const row of rows.values()) if (row.execution.status === 'pending' && row.execution.leaseOwner === null) n++
      return Promise.resolve(n)
    },
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }
}
