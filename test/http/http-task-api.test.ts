import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { buildApp } from '../../src/http/app.js'
import { openStore } from '../../src/store/open-store.js'
import { createBuiltinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import { hang, json, startHttpTarget, type HttpTarget } from '../fixtures/http-target.js'
import { createTestApp, expectProblem, type TestApp } from './helpers.js'

/** The http task through the API, on an app whose http task may reach the local target. */
let target: HttpTarget
let app: FastifyInstance
let engine: Engine
let closeAll: () => Promise<void>
let guarded: TestApp

beforeAll(async () => {
  target = await startHttpTarget()
  const store = await openStore('sqlite::memory:')
  engine = createEngine({ store, tasks: createTaskRegistry(createBuiltinTasks({ http: { allow: [`127.0.0.1:${target.port}`] } })) })
  app = await buildApp({ engine, logger: 'silent' })
  await app.ready()
  closeAll = async () => {
    await app.close()
    await engine.close({ graceMs: 0 })
    await store.close()
  }
  guarded = await createTestApp()
})
afterAll(async () => {
  await closeAll()
  await guarded.close()
  await target.close()
})

const flow = (input: Record<string, unknown>): Record<string, unknown> => ({
  id: 'caller',
  name: 'Caller',
  start_task: 'call',
  tasks: [{ name: 'call', type: 'http', input }],
  conditions: [],
})

describe('the http task through the HTTP API', () => {
  it('runs a flow that calls an allowed server and shows the response as the task data', async () => {
    target.route('/orders/7', json(200, { id: 7, state: 'paid' }))
    const res = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: flow({ url: `${target.origin}/orders/\${input.id}` }), input: { id: 7 } } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'completed', task_results: [{ task_name: 'call', status: 'success', data: { status: 200, body: { id: 7, state: 'paid' } } }] })
  })

  it('fails the execution with HTTP_DESTINATION_REFUSED when the server is not on the allow list', async () => {
    const res = await guarded.app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: flow({ url: `${target.origin}/orders/7` }) } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'failed', failed_task: 'call', task_results: [{ status: 'failure', error_code: 'HTTP_DESTINATION_REFUSED', error_stack: null }] })
  })

  it('reports a non-http URL written in the flow at validation, with its path', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/flows/validate', payload: { flow: flow({ url: 'ftp://files.example.com/a.csv' }) } })
    expect(res.json()).toMatchObject({ valid: false, errors: [{ code: 'TASK_INPUT_INVALID', path: '/flow/tasks/0/input/url' }] })
    const started = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: flow({ url: 'ftp://files.example.com/a.csv' }) } })
    expectProblem(started, 422, 'FLOW_INVALID')
  })

  it('aborts the outgoing request when the execution is cancelled', async () => {
    const arrived = target.arrival('/held')
    target.route('/held', hang)
    const res = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: flow({ url: `${target.origin}/held` }), wait: false } })
    expect(res.statusCode).toBe(202)
    const { closed } = await arrived
    const cancelled = await app.inject({ method: 'POST', url: `/api/v1/executions/${res.json().execution_id}/cancel` })
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' })
    await closed
  })

  it('publishes the http input schema in GET /api/v1/tasks', async () => {
    const items: { name: string; input_schema: { required?: string[]; properties?: Record<string, unknown> } }[] = (await app.inject({ url: '/api/v1/tasks' })).json().items
    const http = items.find((t) => t.name === 'http')
    expect(http?.input_schema.required).toEqual(['url'])
    expect(Object.keys(http?.input_schema.properties ?? {})).toEqual(['url', 'method', 'headers', 'body', 'timeout_ms', 'expect_status'])
  })
})
