import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../src/index.js'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'
import { allUntil, api, ended, kill9, markCounts, runsOf, serve, startMany, type Execution, type ServeProcess } from './orchestration-processes.js'

/**
 * Two real `flow-manager serve` nodes on one PostgreSQL database; one is killed with -9 in the
 * middle of parallel groups and while timers wait. The other finishes everything, each task once.
 * A signal sent to one node reaches the execution another node holds.
 */

const available = await pgAvailable()
const line = (id: string, tasks: object[], conditions: object[] = []): Record<string, unknown> => ({ id, name: id, start_task: (tasks[0] as { name: string }).name, tasks, conditions })
const after = (source: string, target: string): object => ({ name: `after_${source}`, source_task: source, outcome: 'success', target_task_success: target, target_task_failure: 'end' })

describe.skipIf(!available)('groups, timers and signals across PostgreSQL nodes', () => {
  let database: TestDatabase
  let dir: string
  let marks: string
  const processes: ServeProcess[] = []
  // Short leases and polls, so that the survivor notices within a test's patience.
  const env = { FLOW_MANAGER_LEASE_MS: '1500', FLOW_MANAGER_POLL_MS: '100' }
  const node = async (): Promise<ServeProcess> => {
    const p = await serve(database.url, marks, env)
    processes.push(p)
    return p
  }

  beforeAll(async () => {
    database = await createTestDatabase('fm_groups_failover')
    dir = mkdtempSync(join(tmpdir(), 'flow-manager-pg-failover-'))
    marks = join(dir, 'marks.txt')
  })
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) await kill9(p)
    await database.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('finishes on the surviving node every group the killed one was running, each task succeeding once', async () => {
    const flow = line(
      'group',
      [
        { name: 'fan', parallel: ['quick', 'slow', 'nested'] },
        { name: 'quick', type: 'mark' },
        { name: 'slow', type: 'hold' },
        { name: 'slow_after', type: 'mark' },
        { name: 'nested', parallel: ['left', 'right'] },
        { name: 'left', type: 'mark' },
        { name: 'right', type: 'hold' },
        { name: 'after', type: 'mark' },
      ],
      [after('slow', 'slow_after'), after('fan', 'after')],
    )
    const doomed = await node()
    const survivor = await node()
    const ids = await startMany(doomed.url, 20, () => ({ flow }))
    const held = (e: Execution): boolean => ['quick', 'left'].every((t) => e.task_results.some((r) => r.task_name === t && r.status === 'success')) && ['slow', 'right'].every((t) => e.task_results.some((r) => r.task_name === t && r.status === 'running'))
    await allUntil(doomed.url, ids, held, 'not every group reached its held tasks on the first node')
    await kill9(doomed)

    const done = await allUntil(survivor.url, ids, ended, `the survivor did not finish them\n${survivor.output()}`)
    for (const e of done) {
      expect(e.status).toBe('completed')
      expect(runsOf(e).sort()).toEqual([
        'after:success:1',
        'fan:success:1',
        'left:success:1',
        'nested:success:1',
        'quick:success:1',
        'right:interrupted:1',
        'right:success:2',
        'slow:interrupted:1',
        'slow:success:2',
        'slow_after:success:1',
      ])
    }
    for (const task of ['quick', 'left', 'slow_after', 'after']) {
      const counts = markCounts(marks, task)
      expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([])
    }
    const store = await openStore(database.url)
    try {
      for (const id of ids) expect((await store.listEvents(id, 0, 1000)).filter((e) => e.type === 'execution_finished')).toHaveLength(1)
    } finally {
      await store.close()
    }
  }, 300_000)

  it('fires on the surviving node the timers parked by the killed one, each once', async () => {
    const flow = line('timers', [{ name: 'pause', type: 'wait', input: { until: '${input.until}' } }, { name: 'fired', type: 'mark' }], [after('pause', 'fired')])
    const doomed = await node()
    const survivor = await node()
    const until = new Date(Date.now() + 10_000).toISOString()
    const ids = await startMany(doomed.url, 50, () => ({ flow, input: { until } }))
    await allUntil(doomed.url, ids, (e) => e.task_results[0]?.status === 'waiting', 'not every timer parked')
    expect(Date.now(), 'the machine was too slow to park the timers before their time; nothing was tested').toBeLessThan(Date.parse(until) - 1000)
    await kill9(doomed)

    const done = await allUntil(survivor.url, ids, ended, `the survivor did not fire them\n${survivor.output()}`)
    for (const e of done) {
      expect(runsOf(e)).toEqual(['pause:success:1', 'fired:success:1'])
      expect(Date.parse(e.task_results[0]?.finished_at ?? '')).toBeGreaterThanOrEqual(Date.parse(until))
    }
    const counts = markCounts(marks, 'fired')
    expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([])
  }, 300_000)

  it('delivers a signal sent to one node to the execution another node holds while its other branch runs', async () => {
    const flow = line('cross_node', [{ name: 'fan', parallel: ['ask', 'busy'] }, { name: 'ask', type: 'wait_for_signal', input: { signal: 'approve' } }, { name: 'busy', type: 'hold' }])
    const holder = await node()
    const other = await node()
    const ids = await startMany(holder.url, 5, () => ({ flow }))
    await allUntil(holder.url, ids, (e) => e.task_results.some((r) => r.task_name === 'ask' && r.status === 'waiting') && e.task_results.some((r) => r.task_name === 'busy' && r.status === 'running'), 'not every execution waited')
    for (const [n, id] of ids.entries()) await api(other.url, `/api/v1/executions/${id}/signals/approve`, { body: { n } })
    const answered = await allUntil(other.url, ids, (e) => e.task_results.some((r) => r.task_name === 'ask' && r.status === 'success'), 'the holder never took the signals sent to the other node')
    answered.forEach((e, n) => expect(e.task_results.find((r) => r.task_name === 'ask')?.data).toEqual({ n }))
    for (const id of ids) await api(other.url, `/api/v1/executions/${id}/cancel`, { body: {} })
  }, 300_000)
})
