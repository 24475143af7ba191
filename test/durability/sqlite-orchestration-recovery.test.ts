import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../src/index.js'
import { allUntil, api, ended, kill9, markCounts, marksOf, runsOf, serve, start, startMany, until, type Execution, type ServeProcess } from './orchestration-processes.js'

/**
 * kill -9 of a real `flow-manager serve` on a SQLite file while executions wait on timers, run a
 * sub-flow, take signals, or run a parallel group; then a restart. Nothing is lost, and no task
 * code that had finished runs again (the `mark` task counts every call of its code).
 */

let dir: string
let db: string
let marks: string
const processes: ServeProcess[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flow-manager-orchestration-'))
  db = `sqlite:${join(dir, 'flows.db')}`
  marks = join(dir, 'marks.txt')
})
afterEach(async () => {
  for (const p of processes.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) await kill9(p)
  rmSync(dir, { recursive: true, force: true })
})

const node = async (): Promise<ServeProcess> => {
  const p = await serve(db, marks)
  processes.push(p)
  return p
}
const line = (id: string, tasks: object[], conditions: object[] = []): Record<string, unknown> => ({ id, name: id, start_task: (tasks[0] as { name: string }).name, tasks, conditions })
const after = (source: string, target: string): object => ({ name: `after_${source}`, source_task: source, outcome: 'success', target_task_success: target, target_task_failure: 'end' })

/** Every call of `mark` task code, per execution: exactly once each. */
function expectMarkedOnce(task: string, ids: readonly string[]): void {
  const counts = markCounts(marks, task)
  expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([])
  expect(counts.size).toBe(ids.length)
}

describe('restarts after kill -9 on SQLite', () => {
  it('fires all of 200 timers that were waiting when the process died, each once and not before its time', async () => {
    const flow = line('timers', [{ name: 'pause', type: 'wait', input: { until: '${input.until}' } }, { name: 'after', type: 'mark' }], [after('pause', 'after')])
    const first = await node()
    // Far enough ahead that every timer is still waiting when the process is killed.
    const until = new Date(Date.now() + 15_000).toISOString()
    const ids = await startMany(first.url, 200, () => ({ flow, input: { until } }))
    await allUntil(first.url, ids, (e) => e.task_results[0]?.status === 'waiting', 'not every timer parked')
    expect(Date.now(), 'the machine was too slow to park 200 timers before their time; nothing was tested').toBeLessThan(Date.parse(until) - 1000)
    await kill9(first)

    const second = await node()
    const done = await allUntil(second.url, ids, ended, 'not every timer fired after the restart')
    for (const e of done) {
      expect(e.status).toBe('completed')
      expect(runsOf(e)).toEqual(['pause:success:1', 'after:success:1'])
      expect(Date.parse(e.task_results[0]?.finished_at ?? '')).toBeGreaterThanOrEqual(Date.parse(until))
    }
    expectMarkedOnce('after', ids)
    const store = await openSqliteStore({ path: join(dir, 'flows.db') })
    try {
      for (const id of ids.slice(0, 20)) expect((await store.listEvents(id, 0, 100)).filter((e) => e.type === 'execution_finished')).toHaveLength(1)
    } finally {
      await store.close()
    }
  }, 300_000)

  it('finishes a sub-flow cut off by the crash and hands its end to the waiting parent, each once', async () => {
    const first = await node()
    await api(first.url, '/api/v1/flows', { body: line('held_child', [{ name: 'inner', type: 'hold' }, { name: 'inner_after', type: 'mark' }], [after('inner', 'inner_after')]) })
    const parent = line('parent', [{ name: 'pay', type: 'subflow', input: { flow_id: 'held_child' } }, { name: 'done', type: 'mark' }], [after('pay', 'done')])
    const ids = await startMany(first.url, 5, () => ({ flow: parent }))
    const parked = await allUntil(first.url, ids, (e) => typeof e.task_results[0]?.waiting_for?.child === 'string', 'not every parent waited for its child')
    const children = parked.map((e) => e.task_results[0]?.waiting_for?.child as string)
    await allUntil(first.url, children, (e) => e.task_results[0]?.status === 'running', 'not every child reached its held task')
    await kill9(first)

    const second = await node()
    const done = await allUntil(second.url, ids, ended, 'not every parent finished after the restart')
    done.forEach((e, i) => {
      expect(e.status).toBe('completed')
      expect(runsOf(e)).toEqual(['pay:success:1', 'done:success:1'])
      expect(e.task_results[0]?.data).toMatchObject({ execution_id: children[i], status: 'completed' })
    })
    for (const child of await allUntil(second.url, children, ended, 'children')) {
      expect(runsOf(child)).toEqual(['inner:interrupted:1', 'inner:success:2', 'inner_after:success:1'])
    }
    expectMarkedOnce('done', ids)
    expectMarkedOnce('inner_after', children)
  }, 300_000)

  it('delivers every signal that was accepted or resent around a kill -9, one per wait, and one sent with the CLI while no process ran', async () => {
    const flow = line('approvals', [{ name: 'ask', type: 'wait_for_signal', input: { signal: 'approve' } }, { name: 'done', type: 'mark', input: { got: '${results.ask.data}' } }], [after('ask', 'done')])
    const first = await node()
    const ids = await startMany(first.url, 30, () => ({ flow }))
    const offline = await start(first.url, { flow })
    await allUntil(first.url, [...ids, offline], (e) => e.task_results[0]?.status === 'waiting', 'not every execution waited')

    // Thirty signals at once; the process dies once a third of them are answered.
    let answered = 0
    const sent = ids.map((id, n) =>
      fetch(`${first.url}/api/v1/executions/${id}/signals/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) }).then(
        (r) => ((answered += 1), r.status),
        () => 'lost' as const,
      ),
    )
    await until(() => answered >= 10, 60_000, () => 'the signals were never answered')
    await kill9(first)
    const statuses = await Promise.all(sent)
    expect(statuses.filter((s) => s !== 202 && s !== 'lost')).toEqual([])

    // With no process running, the command line keeps a signal in the file.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'signal', offline, 'approve', '--data', '{"n": "offline"}', '--db', db], { encoding: 'utf8', timeout: 60_000 })
    expect(cli.status, cli.stderr).toBe(0)

    const second = await node()
    // A client resends what got no answer: 409 says the first one was kept and taken; a signal kept
    // before the crash and sent again is a spare, never a second delivery.
    for (const [n, id] of ids.entries()) {
      if (statuses[n] !== 'lost') continue
      const resent = await fetch(`${second.url}/api/v1/executions/${id}/signals/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) })
      expect([202, 409]).toContain(resent.status)
    }
    const done = await allUntil(second.url, [...ids, offline], ended, 'not every execution took its signal')
    const counts = markCounts(marks, 'done')
    done.forEach((e, n) => {
      expect(e.status).toBe('completed')
      // Each wait took one signal, its own. A `done` run the kill cut off ran again (at least once);
      // one whose end was recorded did not.
      expect(e.task_results[0]).toMatchObject({ task_name: 'ask', status: 'success', attempt: 1, data: { n: n < ids.length ? n : 'offline' } })
      const cut = runsOf(e).includes('done:interrupted:1')
      expect(runsOf(e)).toEqual(cut ? ['ask:success:1', 'done:interrupted:1', 'done:success:2'] : ['ask:success:1', 'done:success:1'])
      expect(cut ? [1, 2] : [1]).toContain(counts.get(e.execution_id))
    })
  }, 300_000)

  it('finishes a parallel group cut off mid-way: finished branches are not run again, the cut-off one runs again', async () => {
    const flow = line(
      'group',
      [
        { name: 'fan', parallel: ['quick', 'slow'] },
        { name: 'quick', type: 'mark' },
        { name: 'slow', type: 'hold' },
        { name: 'slow_after', type: 'mark' },
        { name: 'after', type: 'mark' },
      ],
      [after('slow', 'slow_after'), after('fan', 'after')],
    )
    const first = await node()
    const ids = await startMany(first.url, 20, () => ({ flow }))
    const cutOff = (e: Execution): boolean => e.task_results.some((r) => r.task_name === 'quick' && r.status === 'success') && e.task_results.some((r) => r.task_name === 'slow' && r.status === 'running')
    await allUntil(first.url, ids, cutOff, 'not every group had one branch done and one held')
    await kill9(first)

    const second = await node()
    const done = await allUntil(second.url, ids, ended, 'not every group finished after the restart')
    for (const e of done) {
      expect(e.status).toBe('completed')
      expect(runsOf(e).sort()).toEqual(['after:success:1', 'fan:success:1', 'quick:success:1', 'slow:interrupted:1', 'slow:success:2', 'slow_after:success:1'])
    }
    for (const task of ['quick', 'slow_after', 'after']) expectMarkedOnce(task, ids)
  }, 300_000)

  it('finishes a for_each cut off mid-way: ended items are not run again, cut-off ones are, the data in item order', async () => {
    // Odd items end at once; even items hold until the crash, then end on their next attempt.
    const flow = line('items', [{ name: 'each', type: 'hold', for_each: 'input.list', max_concurrency: 10, input: { item: '${item}', pass: '${int(index) % 2 == 1}' } }])
    const list = Array.from({ length: 10 }, (_, i) => i)
    const first = await node()
    const ids = await startMany(first.url, 10, () => ({ flow, input: { list } }))
    const items = (e: Execution, status: string): number => e.task_results.filter((r) => r.item_index !== null && r.status === status).length
    const half = (e: Execution): boolean => items(e, 'success') === 5 && items(e, 'running') === 5
    await allUntil(first.url, ids, half, 'not every for_each had its odd items done and its even items held')
    await kill9(first)

    const second = await node()
    const done = await allUntil(second.url, ids, ended, 'not every for_each finished after the restart')
    for (const e of done) {
      expect(e.status).toBe('completed')
      expect(e.task_results[0]?.data).toEqual(list.map((item) => (item % 2 === 1 ? { passed: true, item } : { recovered_on_attempt: 2, item })))
    }
    // The code of each item ended once: odd items before the crash, even ones after it.
    const calls = marksOf(marks)
    for (const id of ids) expect(calls.filter((m) => m.execution === id).map((m) => Number(m.item)).sort((a, b) => a - b)).toEqual(list)
  }, 300_000)
})
