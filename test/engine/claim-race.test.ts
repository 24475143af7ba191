import { afterAll, describe, expect, it } from 'vitest'
import { createEngine } from '../../src/engine/engine.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store, StepWrite } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import { tempDir } from '../fixtures/engine.js'

/**
 * A step that parks an execution gives its lease back, due at once. The node's own claim may read
 * that row before the actor that wrote it has stopped (on PostgreSQL the commit's answer and the
 * claim's come on two connections, in either order). The claim must not be dropped: its lease
 * would be held by nobody until it expired.
 */

const dir = tempDir()
afterAll(() => dir.remove())

const approval = {
  id: 'approval',
  name: 'Approval',
  start_task: 'prepare',
  tasks: [
    { name: 'prepare', type: 'noop' },
    { name: 'approve', type: 'wait_for_signal', input: { signal: 'go' } },
  ],
  conditions: [{ name: 'then', source_task: 'prepare', outcome: 'success', target_task_success: 'approve', target_task_failure: 'end' }],
}

describe('a claim that reads a parked execution before its actor has stopped', () => {
  it('is taken up once the actor stops, so a signal sent then is taken at once, not after the lease expires', async () => {
    const inner = await openSqliteStore({ path: `${dir.path}/race.db` })
    let parkedAnswer: (() => void) | undefined
    let claimedIt!: () => void
    const claimed = new Promise<void>((resolve) => (claimedIt = resolve))
    let parkingId: string | undefined
    const store: Store = {
      ...inner,
      // The step that parks it (after its first task) is answered only after a claim has returned it.
      write(step: StepWrite) {
        const done = inner.write(step)
        if (parkingId !== undefined || step.leaseExpiresAt !== null || step.state.status !== 'running') return done
        parkingId = step.executionId
        return Promise.resolve(done).then(() => new Promise<void>((resolve) => (parkedAnswer = resolve)))
      },
      claim: async (request) => {
        const found = await inner.claim(request)
        if (found.some((e) => e.id === parkingId)) claimedIt()
        return found
      },
    }
    // A lease longer than the test: only the claim's own take-up can move the execution on.
    const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks), leaseMs: 600_000, pollMs: 5 })
    try {
      engine.startWorker()
      const { executionId } = await engine.start({ flow: approval })
      await claimed
      parkedAnswer?.()
      await engine.signal(executionId, 'go', { ok: true })
      const done = await engine.waitForEnd(executionId)
      expect(done.execution.status).toBe('completed')
      expect(done.runs[1]?.data).toEqual({ ok: true })
    } finally {
      parkedAnswer?.()
      await engine.close({ graceMs: 0 })
      await inner.close()
    }
  })
})
