import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import type { ExecutionView } from '../../src/engine/execution-view.js'
import { buildApp } from '../../src/http/app.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, defineTask, type Logger } from '../../src/tasks/define-task.js'
import { signal, tempDir } from '../fixtures/engine.js'
import { expectProblem } from './helpers.js'

/**
 * A full disk under SQLite (`PRAGMA max_page_count` keeps the database from growing, as a full
 * disk would): writes fail while reads work. The API says so with 503 and Retry-After rather than
 * 500, /ready says 503, and an execution whose step could not be recorded is handed back at once
 * and goes on when the disk has room again.
 */

const dir = tempDir()
const reached = signal()
const opened = signal()
/** Its first attempt waits for the test, then returns `input.n` characters; later attempts return them at once. */
const gate = defineTask({
  name: 'gate',
  description: 'Waits for the test on its first attempt, then returns input.n characters.',
  run: async (input, context) => {
    if (context.attempt === 1) {
      reached.resolve()
      await opened.promise
    }
    return { text: 'x'.repeat((input as { n: number }).n), attempt: context.attempt }
  },
})
const flow = {
  id: 'gated',
  name: 'Gate, then noop',
  start_task: 'gate',
  tasks: [{ name: 'gate', type: 'gate', input: { n: 300_000 } }, { name: 'after', type: 'noop' }],
  conditions: [{ name: 'next', source_task: 'gate', outcome: 'success', target_task_success: 'after', target_task_failure: 'end' }],
}

/** The engine's log messages, to wait for what it says it did. */
const messages: { text: string; executionId: unknown }[] = []
const log = (first: unknown, second?: unknown): void => {
  if (typeof first === 'string') messages.push({ text: first, executionId: undefined })
  else messages.push({ text: String(second), executionId: (first as { executionId?: unknown }).executionId })
}
const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger }
const handBacks = (id: string): number => messages.filter((m) => m.executionId === id && m.text.includes('the execution is handed back')).length

let store: Awaited<ReturnType<typeof openSqliteStore>>
let engine: Engine
let app: FastifyInstance

beforeAll(async () => {
  store = await openSqliteStore({ path: `${dir.path}/full.db` })
  // A lease of ten minutes: the execution can only go on within the test if it is handed back.
  // One recovery allowed: a hand-back must not count as a crash.
  engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, gate]), leaseMs: 600_000, pollMs: 50, maxRecoveries: 1, logger })
  app = await buildApp({ engine, logger: 'silent' })
  await app.ready()
  engine.startWorker()
})
afterAll(async () => {
  await app.close()
  await engine.close({ graceMs: 0 })
  await store.close()
  dir.remove()
})

const fill = (): void => {
  const pages = store.database.pragma('page_count', { simple: true }) as number
  store.database.pragma(`max_page_count = ${pages + 4}`)
}
const makeRoom = (): void => {
  store.database.pragma('max_page_count = 1073741823')
}

describe('a full disk under SQLite', () => {
  it('answers 503 with Retry-After where it cannot write, and hands the stalled execution back until it can', async () => {
    const started = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow, wait: false } })
    expect(started.statusCode).toBe(202)
    const id = started.json<ExecutionView>().execution_id
    await reached.promise
    fill()
    // The task's 300 kB result cannot be recorded.
    opened.resolve()

    await vi.waitFor(
      async () => {
        const ready = await app.inject({ method: 'GET', url: '/ready' })
        expectProblem(ready, 503, 'STORE_UNAVAILABLE')
        expect(ready.headers['retry-after']).toBe('5')
      },
      { timeout: 20_000, interval: 50 },
    )
    // A new execution cannot be stored: 503, not 500, and nothing is left behind.
    const refused = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow, input: { pad: 'p'.repeat(200_000) }, wait: false } })
    expectProblem(refused, 503, 'STORE_UNAVAILABLE')
    expect(refused.headers['retry-after']).toBe('5')
    // Nor can a flow be registered: the driver's own error is a 503 on every route.
    const register = await app.inject({ method: 'POST', url: '/api/v1/flows', payload: { ...flow, id: 'big', tasks: [{ name: 'gate', type: 'noop', input: { pad: 'd'.repeat(200_000) } }, flow.tasks[1]] } })
    expectProblem(register, 503, 'STORE_UNAVAILABLE')
    expect(register.headers['retry-after']).toBe('5')
    // Reads work: the execution is still running, its result not recorded.
    const read = (await app.inject({ method: 'GET', url: `/api/v1/executions/${id}` })).json<ExecutionView>()
    expect(read.status).toBe('running')
    expect((await engine.reads.list({ limit: 10 })).items.map((e) => e.id)).toEqual([id])

    // Handed back (after a few tries to write), taken up again, handed back again: it waits for room, not for its lease.
    await vi.waitFor(() => expect(handBacks(id)).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 50 })
    makeRoom()
    const done = await engine.waitForEnd(id)
    expect(done.execution.status).toBe('completed')
    // Each run whose result could not be recorded was cut off and ran again; with max recoveries of 1,
    // counting any of them as a crash would have failed the execution.
    const runs = done.runs.map((r) => `${r.taskName}:${r.status}:${r.attempt}`)
    const tries = runs.length - 1
    expect(tries).toBeGreaterThanOrEqual(2)
    expect(runs).toEqual([...Array.from({ length: tries - 1 }, (_, i) => `gate:interrupted:${i + 1}`), `gate:success:${tries}`, 'after:success:1'])
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200)
  })
})
