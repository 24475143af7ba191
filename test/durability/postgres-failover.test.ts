import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../src/index.js'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'
import { api, startFlowManager, until, type ServeProcess } from '../support/serve-process.js'

/** Two real `flow-manager serve` processes on one PostgreSQL database; one is killed mid-flow. */

interface Execution {
  execution_id: string
  status: string
  current_task: string | null
  task_results: { task_name: string; status: string; attempt: number }[]
}

const available = await pgAvailable()
const flow = JSON.parse(readFileSync(new URL('../fixtures/hold-flow.json', import.meta.url), 'utf8')) as unknown
const COUNT = 20

describe.skipIf(!available)('failover on PostgreSQL', () => {
  let database: TestDatabase
  const processes: ServeProcess[] = []

  beforeAll(async () => {
    database = await createTestDatabase('fm_failover')
  })
  afterAll(async () => {
    for (const p of processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL')
        await p.exited
      }
    }
    await database.drop()
  })

  it('finishes on the surviving node every execution the killed one held, each exactly once', { timeout: 180_000 }, async () => {
    // Short leases and polls, so that the survivor also notices within a test's patience.
    const env = { FLOW_MANAGER_LEASE_MS: '1500', FLOW_MANAGER_POLL_MS: '100' }
    const args = ['serve', '--db', database.url, '--tasks', 'test/fixtures/durability-tasks.ts']
    const doomed = await startFlowManager(args, env)
    processes.push(doomed)
    const survivor = await startFlowManager(args, env)
    processes.push(survivor)

    const ids: string[] = []
    for (let i = 0; i < COUNT; i++) {
      ids.push((await api<Execution>(doomed.url, '/api/v1/executions', { body: { flow, input: { n: i }, wait: false } })).execution_id)
    }
    await until(
      async () => (await Promise.all(ids.map((id) => api<Execution>(doomed.url, `/api/v1/executions/${id}`)))).every((e) => e.current_task === 'hold'),
      30_000,
      () => 'the executions did not all reach the hold task on the first node',
    )
    doomed.child.kill('SIGKILL')
    await doomed.exited

    let executions: Execution[] = []
    await until(
      async () => {
        executions = await Promise.all(ids.map((id) => api<Execution>(survivor.url, `/api/v1/executions/${id}`)))
        return executions.every((e) => e.status === 'completed' || e.status === 'failed')
      },
      60_000,
      () => `the survivor did not finish them: ${JSON.stringify(executions.map((e) => e.status))}\n${survivor.output()}`,
    )
    for (const execution of executions) {
      expect(execution.status).toBe('completed')
      expect(execution.task_results.map((r) => `${r.task_name}:${r.status}:${r.attempt}`)).toEqual([
        'fetch:success:1',
        'hold:interrupted:1',
        'hold:success:2',
        'store:success:1',
      ])
    }
    // Completed once: one execution_finished in each log.
    const store: Store = await openStore(database.url)
    try {
      for (const id of ids) {
        const finishes = (await store.listEvents(id, 0, 1000)).filter((e) => e.type === 'execution_finished')
        expect(finishes).toHaveLength(1)
      }
    } finally {
      await store.close()
    }
  })
})
