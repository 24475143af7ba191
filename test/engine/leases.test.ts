import { afterAll, describe, expect, it } from 'vitest'
import { isFlowManagerError } from '../../src/core/errors.js'
import { createEngine } from '../../src/engine/engine.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import durabilityTasks from '../fixtures/durability-tasks.js'
import { signal, tempDir } from '../fixtures/engine.js'

/** Leases belong to the executions running on a node, and waiting for an execution never outlives the engine. */

const dir = tempDir()
afterAll(() => dir.remove())

const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e)
  return isFlowManagerError(error) ? error.code : String(error)
}

describe('a lease whose execution no longer runs here', () => {
  it('is not renewed by the heartbeat: the execution is taken up again once its lease expires', async () => {
    const real = await openSqliteStore({ path: `${dir.path}/orphan.db` })
    // The database fails one read of a flow: the execution's actor stops on it, leaving its lease behind.
    let failFlowReads = 0
    const store: Store = {
      ...real,
      getFlow: (id, version) => (failFlowReads-- > 0 ? Promise.reject(new Error('the database went away')) : real.getFlow(id, version)),
    }
    const opened = signal()
    const gate = defineTask({
      name: 'gate',
      description: 'Waits for the test on its first attempt.',
      run: async (_input, context) => {
        if (context.attempt === 1) await opened.promise
        return { attempt: context.attempt }
      },
    })
    const engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, gate]), leaseMs: 300, pollMs: 20, flowCacheMs: 0 })
    engine.startWorker()
    try {
      await engine.registerFlow({ id: 'leaf', name: 'Leaf', start_task: 'x', tasks: [{ name: 'x', type: 'noop' }], conditions: [] })
      const parent = {
        id: 'parent',
        name: 'Gate, then a sub-flow',
        start_task: 'a',
        tasks: [{ name: 'a', type: 'gate' }, { name: 'child', type: 'subflow', input: { flow_id: 'leaf' } }],
        conditions: [{ name: 'next', source_task: 'a', outcome: 'success', target_task_success: 'child', target_task_failure: 'end' }],
      }
      const started = await engine.start({ flow: parent })
      failFlowReads = 1
      opened.resolve()
      // Had the heartbeat renewed every lease the node holds, it would wait here for ever.
      const done = await started.done
      expect(done.execution.status).toBe('completed')
      expect(done.runs.map((r) => `${r.taskName}:${r.status}:${r.attempt}`)).toEqual(['a:interrupted:1', 'a:success:2', 'child:success:1'])
      expect(failFlowReads).toBeLessThan(1)
    } finally {
      await engine.close({ graceMs: 0 })
      await real.close()
    }
  })
})

describe('a read that fails while an execution decides its first step', () => {
  it('answers the start with STORE_UNAVAILABLE rather than leaving it waiting for ever', async () => {
    const real = await openSqliteStore({ path: `${dir.path}/first-step.db` })
    let flowReads = 0
    // The second read of a flow fails: the first is the start's check of the sub-flow, the second the actor's.
    const store: Store = { ...real, getFlow: (id, version) => (++flowReads === 2 ? Promise.reject(new Error('the database went away')) : real.getFlow(id, version)) }
    const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks), flowCacheMs: 0 })
    try {
      await engine.registerFlow({ id: 'leaf', name: 'Leaf', start_task: 'x', tasks: [{ name: 'x', type: 'noop' }], conditions: [] })
      flowReads = 0
      const parent = { id: 'parent', name: 'A sub-flow first', start_task: 'child', tasks: [{ name: 'child', type: 'subflow', input: { flow_id: 'leaf' } }], conditions: [] }
      expect(await codeOf(engine.start({ flow: parent }))).toBe('STORE_UNAVAILABLE')
      expect(engine.running).toBe(0)
      expect((await real.listExecutions({ limit: 10 })).items).toEqual([])
    } finally {
      await engine.close({ graceMs: 0 })
      await real.close()
    }
  })
})

describe('waiting for an execution that runs on another node', () => {
  it('ends with SHUTTING_DOWN when the waiting engine closes, for waitForEnd and for done', async () => {
    const path = `${dir.path}/elsewhere.db`
    const runnerStore = await openSqliteStore({ path })
    const runner = createEngine({ store: runnerStore, tasks: createTaskRegistry([...builtinTasks, ...durabilityTasks]), pollMs: 20 })
    const waiterStore = await openSqliteStore({ path })
    // This engine runs nothing itself: what it starts is queued, and the runner takes it.
    const waiter = createEngine({ store: waiterStore, tasks: createTaskRegistry([...builtinTasks, ...durabilityTasks]), maxConcurrent: 0 })
    try {
      runner.startWorker()
      const flow = { id: 'held', name: 'Held', start_task: 'h', tasks: [{ name: 'h', type: 'hold' }], conditions: [] }
      const started = await waiter.start({ flow })
      const waiting = waiter.waitForEnd(started.executionId)
      const done = started.done
      // It runs on the runner, held there until that engine stops.
      for (;;) {
        const record = await waiterStore.getExecutionRecord(started.executionId)
        if (record?.status === 'running') break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await waiter.close({ graceMs: 0 })
      expect(await codeOf(waiting)).toBe('SHUTTING_DOWN')
      expect(await codeOf(done)).toBe('SHUTTING_DOWN')
      expect(await codeOf(waiter.waitForEnd(started.executionId))).toBe('SHUTTING_DOWN')
    } finally {
      await runner.close({ graceMs: 0 })
      await Promise.all([runnerStore.close(), waiterStore.close()])
    }
  })
})
