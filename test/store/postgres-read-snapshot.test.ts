import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import type { ExecutionView } from '../../src/engine/execution-view.js'
import { buildApp } from '../../src/http/app.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'

/** On PostgreSQL an execution is read in one snapshot: its status and its runs always agree. */

const available = await pgAvailable()
const COUNT = 150

const flow = {
  id: 'three-steps',
  name: 'Three steps',
  start_task: 'a',
  tasks: ['a', 'b', 'c'].map((name) => ({ name, type: 'delay', input: { ms: 30 } })),
  conditions: [
    { name: 'ab', source_task: 'a', outcome: 'success', target_task_success: 'b', target_task_failure: 'end' },
    { name: 'bc', source_task: 'b', outcome: 'success', target_task_success: 'c', target_task_failure: 'end' },
  ],
}

describe.skipIf(!available)('reading an execution while it steps, on PostgreSQL', () => {
  let database: TestDatabase
  let store: Store
  let engine: Engine
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase('fm_snapshot')
    store = await openPostgresStore({ url: database.url })
    engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
    app = await buildApp({ engine, logger: 'silent' })
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
    await engine?.close({ graceMs: 0 })
    await store?.close()
    await database?.drop()
  })

  it('never shows an ended execution with a run still open, nor a run the status has not reached', { timeout: 120_000 }, async () => {
    const ids: string[] = []
    const problems: string[] = []
    const statuses = new Set<string>()
    let reading = true
    const reader = async (): Promise<void> => {
      while (reading) {
        const id = ids[Math.floor(Math.random() * ids.length)]
        if (id === undefined) {
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        const view = (await app.inject({ method: 'GET', url: `/api/v1/executions/${id}` })).json<ExecutionView>()
        statuses.add(view.status)
        const open = view.task_results.filter((r) => r.status === 'running' || r.status === 'waiting')
        if (view.status === 'completed' && (open.length > 0 || view.task_results.length !== 3)) problems.push(JSON.stringify(view))
        if (view.status === 'running' && open.length !== 1) problems.push(JSON.stringify(view))
      }
    }
    const readers = Array.from({ length: 4 }, reader)
    for (let i = 0; i < COUNT; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => engine.start({ flow }, { input: { i } })))
      ids.push(...batch.map((s) => s.executionId))
    }
    const ended = await Promise.all(ids.map((id) => engine.waitForEnd(id)))
    reading = false
    await Promise.all(readers)
    expect(ended.every((d) => d.execution.status === 'completed')).toBe(true)
    expect(problems).toEqual([])
    // The reads saw executions running and ended.
    expect([...statuses].sort()).toEqual(['completed', 'running'])
  })
})
