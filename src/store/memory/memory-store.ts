import type { Flow } from '../../core/flow-schema.js'
import { decodeCursor, encodeCursor } from '../sql/cursor.js'
import type { ExecutionRecord, FlowRecord, Store, TaskRunRecord } from '../store.js'

/**
 * A store that keeps everything in this process's memory and nothing on disk: for tests and
 * throwaway runs. Writes apply at once and return nothing to await.
 */
export function createMemoryStore(): Store {
  const executions = new Map<string, ExecutionRecord>()
  const runs = new Map<string, TaskRunRecord[]>()
  const byKey = new Map<string, string>()
  const definitions = new Map<string, Flow>()
  const flows = new Map<string, FlowRecord[]>()

  return {
    kind: 'memory',
    write(step) {
      const { create, state, finishRun, startRun } = step
      let execution = executions.get(step.executionId)
      if (create !== undefined) {
        if (create.idempotencyKey !== null) {
          if (byKey.has(create.idempotencyKey)) throw new Error(`idempotency key "${create.idempotencyKey}" is taken`)
          byKey.set(create.idempotencyKey, create.id)
        }
        execution = {
          id: create.id,
          flowId: create.flowId,
          flowVersion: create.flowVersion,
          definitionHash: create.definitionHash,
          input: JSON.parse(create.inputJson),
          idempotencyKey: create.idempotencyKey,
          createdAt: create.createdAt,
          ...state,
        }
        runs.set(create.id, [])
      }
      if (execution === undefined) throw new Error(`no execution "${step.executionId}"`)
      executions.set(execution.id, { ...execution, ...state })
      const list = runs.get(execution.id) ?? []
      if (finishRun !== undefined) {
        const index = list.findLastIndex((r) => r.seq === finishRun.seq)
        const run = list[index]
        if (run !== undefined) {
          list[index] = {
            ...run,
            status: finishRun.status,
            data: finishRun.dataJson === undefined ? null : JSON.parse(finishRun.dataJson),
            error: finishRun.error,
            finishedAt: finishRun.finishedAt,
            durationMs: finishRun.durationMs,
            nextTask: finishRun.nextTask,
          }
        }
      }
      if (startRun !== undefined) {
        list.push({ executionId: execution.id, ...startRun, status: 'running', data: null, error: null, finishedAt: null, durationMs: null, nextTask: null })
      }
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
      const record: FlowRecord = { id: flow.id, version: versions.length + 1, definitionHash: hash, flow, createdAt: at }
      versions.push(record)
      flows.set(flow.id, versions)
      return Promise.resolve(record)
    },
    getFlow(id, version) {
      const versions = flows.get(id) ?? []
      return Promise.resolve(version === undefined ? versions[versions.length - 1] : versions[version - 1])
    },
    listFlows(limit, cursor) {
      const after = cursor === undefined ? undefined : decodeCursor<[string]>(cursor, ['string'])[0]
      const ids = [...flows.keys()].sort().filter((id) => after === undefined || id > after)
      const items = ids.slice(0, limit).map((id) => (flows.get(id) ?? []).at(-1) as FlowRecord)
      const last = items.at(-1)
      return Promise.resolve({ items, nextCursor: ids.length > limit && last !== undefined ? encodeCursor([last.id]) : null })
    },
    getExecution(id) {
      const execution = executions.get(id)
      return Promise.resolve(execution === undefined ? undefined : { execution, runs: [...(runs.get(id) ?? [])] })
    },
    findExecutionByIdempotencyKey(key) {
      const id = byKey.get(key)
      return Promise.resolve(id === undefined ? undefined : executions.get(id))
    },
    listExecutions(filter) {
      const after = filter.cursor === undefined ? undefined : decodeCursor<[number, string]>(filter.cursor, ['number', 'string'])
      const all = [...executions.values()]
        .filter((e) => (filter.status === undefined || e.status === filter.status) && (filter.flowId === undefined || e.flowId === filter.flowId))
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .filter((e) => after === undefined || e.createdAt < after[0] || (e.createdAt === after[0] && e.id < after[1]))
      const items = all.slice(0, filter.limit)
      const last = items.at(-1)
      return Promise.resolve({ items, nextCursor: all.length > filter.limit && last !== undefined ? encodeCursor([last.createdAt, last.id]) : null })
    },
    listUnfinished(limit) {
      return Promise.resolve([...executions.values()].filter((e) => e.status === 'pending' || e.status === 'running').slice(0, limit))
    },
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }
}
