import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { buildApp, type BuildAppOptions } from '../../src/http/app.js'
import { openStore } from '../../src/store/open-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'

export const SEED = {
  id: 'flow123',
  name: 'Data processing flow',
  start_task: 'task1',
  tasks: [
    { name: 'task1', description: 'Fetch data' },
    { name: 'task2', description: 'Process data' },
    { name: 'task3', description: 'Store data' },
  ],
  conditions: [
    { name: 'condition_task1_result', description: 'Evaluate the result of task1', source_task: 'task1', outcome: 'success', target_task_success: 'task2', target_task_failure: 'end' },
    { name: 'condition_task2_result', description: 'Evaluate the result of task2', source_task: 'task2', outcome: 'success', target_task_success: 'task3', target_task_failure: 'end' },
  ],
}

/** A one-task flow running the `delay` task type for `ms` milliseconds. */
export const delayFlow = (ms: number, id = 'slow'): unknown => ({
  id,
  name: 'Slow flow',
  start_task: 'wait',
  tasks: [{ name: 'wait', type: 'delay', input: { ms } }],
  conditions: [],
})

export interface TestApp {
  readonly app: FastifyInstance
  readonly engine: Engine
  readonly store: Store
  close(): Promise<void>
}

/** An app on a fresh in-memory SQLite database with the built-in task types. */
export async function createTestApp(options: Omit<BuildAppOptions, 'engine'> = {}, storeOverride?: (store: Store) => Store): Promise<TestApp> {
  const opened = await openStore('sqlite::memory:')
  const store = storeOverride === undefined ? opened : storeOverride(opened)
  const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
  const app = await buildApp({ engine, logger: 'silent', ...options })
  await app.ready()
  return {
    app,
    engine,
    store,
    async close() {
      await app.close()
      await engine.close({ graceMs: 0 })
      await opened.close()
    },
  }
}

export interface ProblemBody {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly code: string
  readonly errors: { code: string; path: string; message: string }[]
}

/** Asserts an RFC 9457 problem with the given status and code, and returns its body. */
export function expectProblem(response: LightMyRequestResponse, status: number, code: string): ProblemBody {
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
  const body = response.json<ProblemBody>()
  expect({ status: response.statusCode, code: body.code }).toEqual({ status, code })
  expect(body).toMatchObject({ status, code, type: expect.stringMatching(/^urn:flow-manager:problem:/), title: expect.any(String), detail: expect.any(String) })
  return body
}
