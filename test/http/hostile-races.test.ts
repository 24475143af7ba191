import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import type { ExecutionView } from '../../src/engine/execution-view.js'
import { buildApp } from '../../src/http/app.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import { tempDir } from '../fixtures/engine.js'

/**
 * Hostile clients: cancels and resumes racing one another on the same executions, as fast as they
 * come. No answer is a 5xx, every answer tells the truth about what happened, and no execution is
 * left stuck.
 */

const EXECUTIONS = 30
const ROUNDS = 3
const byInput = defineTask({
  name: 'by-input',
  description: 'Fails when input.mode is "fail".',
  run: (input) => {
    if ((input as { mode?: string }).mode === 'fail') throw new Error('failing as asked')
    return { ok: true }
  },
})
const flow = {
  id: 'resumable',
  name: 'Wait, then fail or not',
  start_task: 'a',
  tasks: [
    { name: 'a', type: 'delay', input: { ms: 30 } },
    { name: 'b', type: 'by-input', input: { mode: '${input.mode}' } },
  ],
  conditions: [{ name: 'next', source_task: 'a', outcome: 'success', target_task_success: 'b', target_task_failure: 'end' }],
}

const dir = tempDir()
let store: Store
let engine: Engine
let app: FastifyInstance

beforeAll(async () => {
  store = await openSqliteStore({ path: `${dir.path}/races.db`, synchronous: 'NORMAL' })
  engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, byInput]) })
  app = await buildApp({ engine, logger: 'silent' })
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await engine.close({ graceMs: 0 })
  await store.close()
  dir.remove()
})

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const TERMINAL = ['completed', 'failed', 'cancelled']

describe('cancels and resumes racing on the same executions', () => {
  it('never answers 5xx, answers what happened, and leaves no execution stuck', { timeout: 120_000 }, async () => {
    const ids = await Promise.all(
      Array.from({ length: EXECUTIONS }, async () => {
        const response = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow, input: { mode: 'fail' }, wait: false } })
        expect(response.statusCode).toBe(202)
        return response.json<ExecutionView>().execution_id
      }),
    )
    const wrong: string[] = []
    const act = async (id: string): Promise<void> => {
      await pause(Math.random() * 80)
      const resume = Math.random() < 0.6
      const url = `/api/v1/executions/${id}/${resume ? 'resume' : 'cancel'}`
      const payload = resume ? { input: { mode: Math.random() < 0.5 ? 'fail' : 'ok' }, wait: Math.random() < 0.5, wait_ms: 200 } : { reason: 'hostile' }
      const response = await app.inject({ method: 'POST', url, payload })
      const body = response.json<ExecutionView & { code?: string }>()
      const what = `${resume ? 'resume' : 'cancel'} ${id} → ${response.statusCode} ${response.body.slice(0, 300)}`
      if (response.statusCode >= 500) wrong.push(what)
      else if (response.statusCode === 409) {
        if (body.code !== (resume ? 'EXECUTION_NOT_RESUMABLE' : 'EXECUTION_NOT_CANCELLABLE')) wrong.push(what)
      } else if (response.statusCode === 200) {
        // A 200 is an end: a cancel's is the cancellation itself.
        if (!TERMINAL.includes(body.status) || (!resume && body.status !== 'cancelled')) wrong.push(what)
      } else if (response.statusCode !== 202 || TERMINAL.includes(body.status) || response.headers.location === undefined) wrong.push(what)
    }
    for (let round = 0; round < ROUNDS; round++) await Promise.all(ids.flatMap((id) => Array.from({ length: 6 }, () => act(id))))
    expect(wrong).toEqual([])

    // Every execution ends, and what is stored agrees with itself.
    for (const id of ids) {
      const detail = await engine.waitForEnd(id)
      expect(TERMINAL).toContain(detail.execution.status)
      expect(detail.runs.filter((r) => r.status === 'running' || r.status === 'waiting')).toEqual([])
      const events = (await store.listEvents(id, 0, 1000)).map((e) => e.type)
      expect(events.at(-1)).toBe('execution_finished')
    }
    expect(engine.running).toBe(0)
    const health = await app.inject({ method: 'GET', url: '/health' })
    expect(health.statusCode).toBe(200)
  })
})
