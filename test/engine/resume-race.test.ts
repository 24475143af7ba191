import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isFlowManagerError } from '../../src/core/errors.js'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { tempDir } from '../fixtures/engine.js'

/** Two resumes of one failed execution at once: one resumes it, the other is refused, and the one running stays in hand. */

const byInput = defineTask({
  name: 'by-input',
  description: 'Fails when input.mode is "fail"; holds until stopped when it is "hold".',
  run: (input, context) => {
    const mode = (input as { mode?: string }).mode
    if (mode === 'fail') throw new Error('failing as asked')
    if (mode === 'hold') return new Promise((_resolve, reject) => context.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }))
    return { mode }
  },
})
const flow = { id: 'by-input', name: 'By input', start_task: 'w', tasks: [{ name: 'w', type: 'by-input', input: { mode: '${input.mode}' } }], conditions: [] }

const dir = tempDir()
let store: Store
let engine: Engine
beforeAll(async () => {
  store = await openSqliteStore({ path: `${dir.path}/resume-race.db` })
  engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, byInput]) })
})
afterAll(async () => {
  await engine.close({ graceMs: 0 })
  await store.close()
  dir.remove()
})

describe('two resumes of one execution at once', () => {
  it('resumes it once, refuses the other with EXECUTION_NOT_RESUMABLE, and can still cancel the one running', async () => {
    const failed = await engine.run({ flow }, { input: { mode: 'fail' } })
    const id = failed.execution.id
    const outcomes = await Promise.allSettled([engine.resume(id, { input: { mode: 'hold' } }), engine.resume(id, { input: { mode: 'hold' } })])
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
    const refused = outcomes.find((o) => o.status === 'rejected')
    expect(isFlowManagerError(refused?.reason) ? refused.reason.code : refused?.reason).toBe('EXECUTION_NOT_RESUMABLE')
    // The resumed execution runs here, and a cancel reaches it at once.
    expect(engine.running).toBe(1)
    const cancelled = await engine.cancel(id)
    expect(cancelled.execution.status).toBe('cancelled')
    expect(engine.running).toBe(0)
  })
})
