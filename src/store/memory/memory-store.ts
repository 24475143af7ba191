import type { Flow } from '../../core/flow-schema.js'
import { decodeCursor, encodeCursor } from '../sql/cursor.js'
import {
  LeaseLostError,
  type ExecutionEventRecord,
  type ExecutionRecord,
  type FlowRecord,
  type StepWrite,
  type Store,
  type TaskRunRecord,
} from '../store.js'

interface Row {
  execution: ExecutionRecord
  leaseExpiresAt: number | null
  wakeAt: number | null
  readonly runs: TaskRunRecord[]
  readonly events: ExecutionEventRecord[]
}

const unfinished = (e: ExecutionRecord): boolean => e.status === 'pending' || e.status === 'running'

/**
 * A store that keeps everything in this process's memory and nothing on disk: for tests and
 * throwaway runs. Writes apply at once and return nothing to await.
 */
export function createMemoryStore(): Store {
  const rows = new Map<string, Row>()
  const byKey = new Map<string, string>()
  const definitions = new Map<string, Flow>()
  const flows = new Map<string, FlowRecord[]>()

  const apply = (step: StepWrite): void => {
    const { create, state } = step
    let row = rows.get(step.executionId)
    if (create !== undefined) {
      if (create.idempotencyKey !== null && byKey.has(create.idempotencyKey)) {
        throw new Error(`idempotency key "${create.idempotencyKey}" is taken`)
      }
      if (create.idempotencyKey !== null) byKey.set(create.idempotencyKey, create.id)
      const execution: ExecutionRecord = {
        id: create.id,
        flowId: create.flowId,
        flowVersion: create.flowVersion,
        definitionHash: create.definitionHash,
        input: JSON.parse(create.inputJson) as unknown,
        idempotencyKey: create.idempotencyKey,
        createdAt: create.createdAt,
        ...state,
        leaseOwner: step.leaseExpiresAt === null ? null : step.owner,
        cancelRequested: false,
      }
      row = { execution, leaseExpiresAt: step.leaseExpiresAt, wakeAt: step.wakeAt ?? null, runs: [], events: [] }
      rows.set(create.id, row)
    }
    if (row === undefined) throw new Error(`no execution "${step.executionId}"`)
    const holder = step.takeover === true ? null : step.owner
    if (create === undefined && row.execution.leaseOwner !== holder) throw new LeaseLostError(step.executionId)
    row.execution = { ...row.execution, ...state, leaseOwner: step.leaseExpiresAt === null ? null : step.owner }
    row.leaseExpiresAt = step.leaseExpiresAt
    row.wakeAt = step.wakeAt ?? null
    const runs = row.runs
    const at = (seq: number): number => runs.findLastIndex((r) => r.seq === seq)
    if (step.interruptRun !== undefined) {
      const i = at(step.interruptRun.seq)
      const run = runs[i]
      if (run !== undefined) runs[i] = { ...run, status: 'interrupted', finishedAt: step.interruptRun.at }
    }
    const finish = step.finishRun
    if (finish !== undefined) {
      const i = at(finish.seq)
      const run = runs[i]
      if (run !== undefined) {
        runs[i] = {
          ...run,
          status: finish.status,
          data: finish.dataJson === undefined ? null : JSON.parse(finish.dataJson),
          error: finish.error,
          finishedAt: finish.finishedAt,
          durationMs: finish.durationMs,
          nextTask: finish.nextTask,
        }
      }
    }
    if (step.startRun !== undefined) {
      runs.push({ executionId: step.executionId, ...step.startRun, status: 'running', data: null, error: null, finishedAt: null, durationMs: null, nextTask: null })
    }
    for (const e of step.events) {
      row.events.push({ executionId: step.executionId, seq: e.seq, type: e.type, at: e.at, taskName: e.taskName, data: e.data })
    }
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
      definitions.set(hash, flow)
      return Promise.resolve()
    },
    getDefinition: (hash) => Promise.resolve(definitions.get(hash)),
    registerFlow(hash, flow, at) {
      definitions.set(hash, flow)
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
    getExecution(id) {
      const row = rows.get(id)
      return Promise.resolve(row === undefined ? undefined : { execution: row.execution, runs: [...row.runs] })
    },
    findExecutionByIdempotencyKey(key) {
      const id = byKey.get(key)
      return Promise.resolve(id === undefined ? undefined : rows.get(id)?.execution)
    },
    async listExecutions(filter) {
      const after = filter.cursor === undefined ? undefined : await Promise.resolve(decodeCursor<[number, string]>(filter.cursor, ['number', 'string']))
      const all = [...rows.values()]
        .map((r) => r.execution)
        .filter((e) => (filter.status === undefined || e.status === filter.status) && (filter.flowId === undefined || e.flowId === filter.flowId))
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .filter((e) => after === undefined || e.createdAt < after[0] || (e.createdAt === after[0] && e.id < after[1]))
      return page(all, filter.limit, (e) => [e.createdAt, e.id])
    },
    listUnfinished(limit) {
      return Promise.resolve([...rows.values()].map((r) => r.execution).filter(unfinished).slice(0, limit))
    },
    claim({ owner, limit, now, leaseMs, deadOwners, onlyIds }) {
      const claimed: ExecutionRecord[] = []
      const oldestFirst = [...rows.values()].filter((r) => unfinished(r.execution)).sort((a, b) => a.execution.createdAt - b.execution.createdAt)
      for (const row of oldestFirst) {
        if (claimed.length >= limit) break
        const e = row.execution
        const free = e.leaseOwner === null || (row.leaseExpiresAt ?? 0) < now || deadOwners.includes(e.leaseOwner)
        const due = row.wakeAt === null || row.wakeAt <= now || e.cancelRequested
        if (!unfinished(e) || !free || !due || (onlyIds !== undefined && !onlyIds.includes(e.id))) continue
        row.execution = { ...e, leaseOwner: owner }
        row.leaseExpiresAt = now + leaseMs
        claimed.push(row.execution)
      }
      return Promise.resolve(claimed)
    },
    heartbeat(owner, now, leaseMs) {
      const cancelRequested: string[] = []
      for (const row of rows.values()) {
        if (row.execution.leaseOwner !== owner || !unfinished(row.execution)) continue
        row.leaseExpiresAt = now + leaseMs
        if (row.execution.cancelRequested) cancelRequested.push(row.execution.id)
      }
      return Promise.resolve({ cancelRequested })
    },
    release(owner) {
      for (const row of rows.values()) {
        if (row.execution.leaseOwner === owner) {
          row.execution = { ...row.execution, leaseOwner: null }
          row.leaseExpiresAt = null
        }
      }
      return Promise.resolve()
    },
    listLeaseOwners() {
      const owners = new Set<string>()
      for (const row of rows.values()) if (unfinished(row.execution) && row.execution.leaseOwner !== null) owners.add(row.execution.leaseOwner)
      return Promise.resolve([...owners])
    },
    requestCancel(id) {
      const row = rows.get(id)
      if (row !== undefined && unfinished(row.execution)) row.execution = { ...row.execution, cancelRequested: true }
      return Promise.resolve()
    },
    listEvents(id, afterSeq, limit) {
      return Promise.resolve((rows.get(id)?.events ?? []).filter((e) => e.seq > afterSeq).slice(0, limit))
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
