import { expect } from 'vitest'
import type { Store } from '../../src/store/store.js'

const T0 = Date.UTC(2025, 5, 1)

/**
 * Rows as version 001 of the schema held them: a queued execution, one running under a lease,
 * one waiting for a retry with nobody holding it, and a finished one.
 */
export const V1_ROWS: readonly string[] = [
  `insert into flow_definitions (hash, definition, created_at) values ('h1', '{"id":"f","name":"f","start_task":"a","tasks":[{"name":"a","type":"noop"}],"conditions":[]}', ${T0})`,
  `insert into flows (id, version, definition_hash, created_at) values ('f', 1, 'h1', ${T0})`,
  ...[
    ['queued', 'pending', 'null', 'null', 'null', 0],
    ['running', 'running', "'old-node'", `${T0 + 30_000}`, 'null', 2],
    ['retrying', 'running', 'null', 'null', `${T0 + 500}`, 1],
    ['finished', 'completed', 'null', 'null', 'null', 3],
  ].map(
    ([id, status, owner, expires, wake, steps]) =>
      `insert into executions (id, flow_id, flow_version, definition_hash, status, input, current_task, steps, created_at, updated_at, lease_owner, lease_expires_at, wake_at, event_seq)
       values ('${id}', 'f', 1, 'h1', '${status}', '{"v":1}', ${status === 'completed' ? 'null' : "'a'"}, ${steps}, ${T0}, ${T0}, ${owner}, ${expires}, ${wake}, 0)`,
  ),
  ...[
    ['running', 1, 'success'],
    ['running', 2, 'running'],
    ['retrying', 1, 'failure'],
    ['finished', 1, 'success'],
    ['finished', 2, 'success'],
    ['finished', 3, 'success'],
  ].map(
    ([id, seq, status]) =>
      `insert into task_runs (execution_id, seq, task_name, task_type, attempt, status, data, started_at, finished_at)
       values ('${id}', ${seq}, 'a', 'noop', 1, '${status}', ${status === 'running' ? 'null' : `'{"seq":${seq}}'`}, ${T0}, ${status === 'running' ? 'null' : T0})`,
  ),
]

/** What the upgraded store must show of V1_ROWS: sequence numbers counted, queued work due, nothing else moved. */
export async function expectUpgraded(store: Store): Promise<void> {
  const record = async (id: string) => (await store.getExecutionRecord(id))!
  expect(await record('queued')).toMatchObject({ seq: 0, wakeAt: T0, leaseOwner: null, threads: [], storedBytes: 0, poke: 0, parent: null, depth: 0 })
  // Each running one stands where its latest run left it: in flight, or waiting for its retry.
  const thread = { id: 0, parent: null, branch: null, item: null, task: 'a', attempt: 1, waiting: null, crashes: 0, join: null }
  expect(await record('running')).toMatchObject({ seq: 2, wakeAt: null, leaseOwner: 'old-node', nextThread: 1, threads: [{ ...thread, step: 2, seq: 2, phase: 'run', wakeAt: null }] })
  expect(await record('retrying')).toMatchObject({ seq: 1, wakeAt: T0 + 500, leaseOwner: null, nextThread: 1, threads: [{ ...thread, step: 1, seq: 1, phase: 'backoff', wakeAt: T0 + 500 }] })
  expect(await record('finished')).toMatchObject({ threads: [], nextThread: 0 })
  expect(await record('finished')).toMatchObject({ seq: 3, status: 'completed' })
  expect((await store.getExecution('finished'))?.runs.map((r) => [r.seq, r.status, r.parentSeq, r.waitingFor])).toEqual([
    [1, 'success', null, null],
    [2, 'success', null, null],
    [3, 'success', null, null],
  ])
  expect(await store.countQueued()).toBe(1)
  expect(await store.nextWake()).toBe(T0)
  const claim = (now: number) => store.claim({ owner: 'new-node', limit: 10, now, leaseMs: 100_000, deadOwners: [] })
  expect((await claim(T0 + 1)).map((e) => e.id)).toEqual(['queued'])
  expect((await claim(T0 + 501)).map((e) => e.id)).toEqual(['retrying'])
  expect((await claim(T0 + 30_001)).map((e) => e.id)).toEqual(['running'])
  expect((await store.getFlow('f'))?.version).toBe(1)
}
