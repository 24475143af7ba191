import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngine } from '../../src/engine/engine.js'
import { toExecutionView } from '../../src/engine/execution-view.js'
import { openStore } from '../../src/store/open-store.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import { fakeClock, sequentialIds, signal, tempDir } from '../fixtures/engine.js'
import { seedFlow } from '../fixtures/flows.js'

const dir = tempDir()
afterAll(() => dir.remove())

describe('recording on a SQLite file', () => {
  it('reads back a finished execution and its task runs after the database is closed and reopened', async () => {
    const path = join(dir.path, 'nested', 'recorded.db')
    const clock = fakeClock()
    // Each task run takes 25 ms of fake time, so every timestamp and duration is distinct and known.
    const slow = defineTask({ name: 'slow', description: 'takes 25 ms of fake time', run: () => void clock.advance(25) })
    const store = await openSqliteStore({ path })
    expect(store.database.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(store.database.pragma('synchronous', { simple: true })).toBe(2)
    const engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, slow]), clock, newId: sequentialIds() })
    const flow = {
      ...seedFlow().flow,
      tasks: [{ name: 'task1' }, { name: 'wait', type: 'slow' }, { name: 'task2' }, { name: 'task3' }],
      conditions: [
        { name: 'c1', source_task: 'task1', outcome: 'success', target_task_success: 'wait', target_task_failure: 'end' },
        { name: 'cw', source_task: 'wait', outcome: 'success', target_task_success: 'task2', target_task_failure: 'end' },
        { name: 'c2', source_task: 'task2', outcome: 'success', target_task_success: 'task3', target_task_failure: 'end' },
      ],
    }
    const finished = await engine.run({ flow }, { input: { fail: ['task3'] } })
    await engine.close({ graceMs: 0 })
    await store.close()

    const reopened = await openStore(`sqlite:${path}`)
    const read = await reopened.getExecution(finished.execution.id)
    await reopened.close()
    expect(read).toEqual(finished)
    const view = toExecutionView(read!)
    const start = clock.now() - 25
    expect(view).toMatchObject({
      status: 'failed',
      input: { fail: ['task3'] },
      executed_tasks: ['task1', 'wait', 'task2', 'task3'],
      failed_task: 'task3',
      error: { code: 'TASK_FAILED' },
      created_at: new Date(start).toISOString(),
      started_at: new Date(start).toISOString(),
      finished_at: new Date(start + 25).toISOString(),
      duration_ms: 25,
    })
    expect(view.task_results.map((r) => [r.task_name, r.status, r.next_task, r.duration_ms, r.started_at, r.finished_at])).toEqual([
      ['task1', 'success', 'wait', 0, view.created_at, view.created_at],
      ['wait', 'success', 'task2', 25, view.created_at, view.finished_at],
      ['task2', 'success', 'task3', 0, view.finished_at, view.finished_at],
      ['task3', 'failure', null, 0, view.finished_at, view.finished_at],
    ])
    expect(view.task_results[2]?.data).toMatchObject({ count: 3, records: [{ value: 'RECORD-1' }, { value: 'RECORD-2' }, { value: 'RECORD-3' }] })
  })

  it('leaves an execution cut off by shutdown recorded as running, its cut-off task run interrupted and due again', async () => {
    const path = join(dir.path, 'cut-off.db')
    const started = signal()
    const hang = defineTask({ name: 'hang', description: 'never settles', run: () => (started.resolve(), new Promise(() => undefined)) })
    const store = await openSqliteStore({ path })
    const engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, hang]), clock: fakeClock(), newId: sequentialIds() })
    const flow = { id: 'cut', name: 'Cut off', start_task: 'a', tasks: [{ name: 'a', type: 'noop' }, { name: 'b', type: 'hang' }],
      conditions: [{ name: 'c', source_task: 'a', outcome: 'success', target_task_success: 'b', target_task_failure: 'end' }] }
    const run = await engine.start({ flow })
    await started.promise
    await engine.close({ graceMs: 0 })
    // Closing the engine ends every wait for an end: the execution goes on at the next start.
    await expect(run.done).rejects.toMatchObject({ code: 'SHUTTING_DOWN' })
    await store.close()

    const reopened = await openSqliteStore({ path })
    const unfinished = await reopened.listExecutions({ status: 'running', limit: 10 })
    const detail = await reopened.getExecution(run.executionId)
    await reopened.close()
    expect(unfinished.items.map((e) => e.id)).toEqual([run.executionId])
    expect(detail?.execution).toMatchObject({ status: 'running', currentTask: 'b', steps: 2, finishedAt: null, leaseOwner: null })
    expect(detail?.runs.map((r) => [r.taskName, r.status, r.nextTask])).toEqual([
      ['a', 'success', 'b'],
      ['b', 'interrupted', null],
    ])
  })
})

describe('openStore', () => {
  it.each(['sqlite::memory:', 'memory:'])('opens a throwaway store for %s', async (url) => {
    const store = await openStore(url)
    await store.ping()
    expect(store.kind).toBe(url === 'memory:' ? 'memory' : 'sqlite')
    await store.close()
  })

  it.each(['sqlite:', 'mysql://localhost/db', './file.db'])('refuses %s with DATABASE_URL_INVALID', async (url) => {
    await expect(openStore(url)).rejects.toMatchObject({ code: 'DATABASE_URL_INVALID' })
  })
})
