import { afterAll, describe, expect, it } from 'vitest'
import { createEngine } from '../../src/engine/engine.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import { signal, sqliteEngine, tempDir } from '../fixtures/engine.js'

/** The event log names the task of every event about a run, so that a reader need not join it to the runs. */

const dir = tempDir()
afterAll(() => dir.remove())

const approval = {
  id: 'approval',
  name: 'Approval',
  start_task: 'approve',
  tasks: [
    { name: 'approve', type: 'wait_for_signal', input: { signal: 'approval' } },
    { name: 'record', type: 'noop', input: { by: '${results.approve.data.by}' } },
  ],
  conditions: [{ name: 'approved', source_task: 'approve', outcome: 'success', target_task_success: 'record', target_task_failure: 'end' }],
}

describe('the event log of an execution', () => {
  it('names the waiting task, and records the signal it took', async () => {
    const t = await sqliteEngine(dir.path)
    try {
      const { executionId } = await t.engine.start({ flow: approval })
      await t.engine.signal(executionId, 'approval', { by: 'ana' })
      const done = await t.engine.waitForEnd(executionId)
      expect(done.execution.status).toBe('completed')
      expect(done.runs.at(-1)?.data).toEqual({ by: 'ana' })
      const events = await t.store.listEvents(executionId, 0, 100)
      expect(events.find((e) => e.type === 'task_waiting')).toMatchObject({ taskName: 'approve', data: { waiting_for: { signal: 'approval' } } })
      const received = events.find((e) => e.type === 'signal_received')
      expect(received).toMatchObject({ taskName: 'approve', data: { signal: 'approval' } })
      // Before the wait's own end, which it caused.
      const finished = events.find((e) => e.type === 'task_finished' && e.taskName === 'approve')
      expect(received?.seq).toBeLessThan(finished?.seq ?? 0)
    } finally {
      await t.close()
    }
  })

  it('names the task whose run a shutdown cut off', async () => {
    const path = `${dir.path}/cut.db`
    const started = signal()
    const hang = defineTask({ name: 'hang', description: 'waits until stopped', run: (_input, context) => new Promise((_resolve, reject) => {
      started.resolve()
      context.signal.addEventListener('abort', () => reject(new Error('stopped')))
    }) })
    const store = await openSqliteStore({ path })
    const engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, hang]) })
    const flow = { id: 'cut', name: 'Cut', start_task: 'slow', tasks: [{ name: 'slow', type: 'hang' }], conditions: [] }
    const { executionId } = await engine.start({ flow })
    await started.promise
    await engine.close({ graceMs: 0 })
    const events = await store.listEvents(executionId, 0, 100)
    await store.close()
    expect(events.find((e) => e.type === 'task_interrupted')).toMatchObject({ taskName: 'slow', data: { attempt: 1 } })
  })
})
