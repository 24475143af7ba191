import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import type { ExecutionView } from '../../src/engine/execution-view.js'
import { buildApp } from '../../src/http/app.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import { tempDir } from '../fixtures/engine.js'

/**
 * A cancel that races the execution's end tells one truth: it wins (cancelled, and nothing after
 * the cancel is recorded) or it loses (409, and the execution completed). 260 executions of a
 * 100 ms delay then a noop, each cancelled at a random moment from 60 to 110 ms.
 */

const COUNT = 260
const flow = {
  id: 'delay-then-noop',
  name: 'Delay, then noop',
  start_task: 'wait',
  tasks: [{ name: 'wait', type: 'delay', input: { ms: 100 } }, { name: 'after', type: 'noop' }],
  conditions: [{ name: 'next', source_task: 'wait', outcome: 'success', target_task_success: 'after', target_task_failure: 'end' }],
}

const dir = tempDir()
let store: Store
let engine: Engine
let app: FastifyInstance

beforeAll(async () => {
  store = await openSqliteStore({ path: `${dir.path}/race.db`, synchronous: 'NORMAL' })
  engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
  app = await buildApp({ engine, logger: 'silent' })
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await engine.close({ graceMs: 0 })
  await store.close()
  dir.remove()
})

interface Outcome {
  readonly id: string
  readonly status: number
  readonly body: { status?: string; code?: string }
}

async function startAndCancel(): Promise<Outcome> {
  const started = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow, wait: false } })
  expect(started.statusCode).toBe(202)
  const id = started.json<ExecutionView>().execution_id
  await new Promise((resolve) => setTimeout(resolve, 60 + Math.random() * 50))
  const cancelled = await app.inject({ method: 'POST', url: `/api/v1/executions/${id}/cancel`, payload: {} })
  return { id, status: cancelled.statusCode, body: cancelled.json() }
}

describe('a cancel racing the end of its execution', () => {
  it('either wins, with nothing recorded after it, or loses with 409 to a completed execution', { timeout: 120_000 }, async () => {
    // Twenty at a time, so that the moment of each cancel is close to the one chosen.
    const outcomes: Outcome[] = []
    while (outcomes.length < COUNT) outcomes.push(...(await Promise.all(Array.from({ length: 20 }, startAndCancel))))
    let won = 0
    for (const { id, status, body } of outcomes) {
      const detail = await store.getExecution(id)
      const events = await store.listEvents(id, 0, 100)
      const runs = detail?.runs.map((r) => `${r.taskName}:${r.status}:${r.error?.code ?? ''}`)
      const types = events.map((e) => e.type)
      if (status === 200) {
        won++
        // Never a 200 that is not a cancellation.
        expect(body.status).toBe('cancelled')
        expect(detail?.execution.status).toBe('cancelled')
        expect(detail?.execution.error?.code).toBe('EXECUTION_CANCELLED')
        // Never cancelled with both tasks succeeded: the run open at the cancel was closed by it.
        expect(runs).not.toContain('after:success:')
        expect(runs?.at(-1)).toMatch(/:failure:EXECUTION_CANCELLED$/)
        // The cancel is in the log, and no task run started after it.
        const at = types.indexOf('cancel_requested')
        expect(at).toBeGreaterThanOrEqual(0)
        expect(types.slice(at)).not.toContain('task_started')
        expect(types.at(-1)).toBe('execution_finished')
      } else {
        expect({ status, code: body.code }).toEqual({ status: 409, code: 'EXECUTION_NOT_CANCELLABLE' })
        expect(detail?.execution.status).toBe('completed')
        expect(runs).toEqual(['wait:success:', 'after:success:'])
        expect(types).not.toContain('cancel_requested')
      }
    }
    // Both sides of the race were run.
    expect(won).toBeGreaterThan(0)
    expect(won).toBeLessThan(COUNT)
    expect(engine.running).toBe(0)
  })
})
