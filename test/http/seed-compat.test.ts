import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, SEED, type TestApp } from './helpers.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t.close()
})

const post = (url: string, payload: unknown) => t.app.inject({ method: 'POST', url, payload: payload as object })

describe('the /api/v1/flows/execute service', () => {
  it('runs {flow} and answers status success with the execution_state', async () => {
    const res = await post('/api/v1/flows/execute', { flow: SEED })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ flow_id: 'flow123', status: 'success', message: expect.any(String) })
    expect(body.execution_state).toMatchObject({ execution_id: body.execution_id, flow_id: 'flow123', flow_name: 'Data processing flow', status: 'success', error: null })
    expect(body.execution_state.task_results[0]).toEqual({
      task_name: 'task1',
      status: 'success',
      data: expect.any(Object),
      error: null,
      started_at: expect.any(String),
      completed_at: expect.any(String),
    })
    const state = await t.app.inject({ url: `/api/v1/flows/executions/${body.execution_id}` })
    expect(state.json()).toEqual(body.execution_state)
    const list = await t.app.inject({ url: '/api/v1/flows/executions' })
    expect(list.json()).toEqual(expect.arrayContaining([body.execution_state]))
  })

  it('answers a failed run with 200 and status failure', async () => {
    const res = await post('/api/v1/flows/execute', { flow: SEED, input: { fail: ['task1'] } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'failure', message: "Flow 'Data processing flow' failed at task 'task1'. task \"task1\" failed: asked to fail by the execution input (\"fail\" names task \"task1\")", execution_state: { status: 'failure' } })
  })

  it('answers an unknown execution with 404 and a detail', async () => {
    const res = await t.app.inject({ url: '/api/v1/flows/executions/nope' })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toEqual({ detail: "Execution 'nope' not found" })
  })
})

describe('the two /flow/execute services', () => {
  it('runs a bare flow and answers both services\' fields', async () => {
    const res = await post('/flow/execute', SEED)
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({
      flow_id: 'flow123',
      status: 'completed',
      executed_tasks: ['task1', 'task2', 'task3'],
      failed_task: null,
      error_message: null,
      start_time: expect.any(String),
      end_time: expect.any(String),
    })
    expect(body.execution_history[0]).toEqual({ task_name: 'task1', status: 'success', data: expect.any(Object), message: expect.any(String), timestamp: expect.any(String) })
    expect((await t.app.inject({ url: `/flow/status/${body.execution_id}` })).json()).toEqual(body)
  })

  it('runs {flow} with a context as input and reports the failed task', async () => {
    const res = await post('/flow/execute', { flow: SEED, context: { fail: 'task3' } })
    expect(res.json()).toMatchObject({ status: 'failed', failed_task: 'task3', error_message: expect.any(String) })
  })

  it('validates with {valid: true, flow, message} or {valid: false, error, errors}', async () => {
    expect((await post('/flow/validate', { flow: SEED })).json()).toMatchObject({ valid: true, flow: SEED, message: expect.any(String) })
    const bad = (await post('/flow/validate', { ...SEED, start_task: 'nope' })).json()
    expect(bad).toMatchObject({ valid: false, error: expect.stringContaining('/start_task'), errors: [expect.objectContaining({ path: '/start_task' })] })
  })

  it('refuses an invalid flow with 400 {error, details} and its issues, paths into the body', async () => {
    const res = await post('/flow/execute', { flow: { ...SEED, tasks: 'x' } })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ error: 'Invalid flow definition', details: expect.stringContaining('/flow/tasks'), errors: expect.arrayContaining([expect.objectContaining({ path: '/flow/tasks' })]) })
  })
})

describe('the /run-flow service', () => {
  it('runs {flow} and answers flow_run_id with the execution_log', async () => {
    const res = await post('/run-flow', { flow: SEED })
    const body = res.json()
    expect(body).toMatchObject({ status: 'completed', flow_run_id: expect.any(String) })
    expect(body.execution_log).toHaveLength(3)
    expect(body.execution_log[0]).toEqual({ task_run_id: expect.any(String), task_name: 'task1', success: true, data: expect.any(Object), result: { success: true, data: body.execution_log[0].data }, error: null })
    const run = (await t.app.inject({ url: `/flows/${body.flow_run_id}` })).json()
    expect(run.flow_run).toEqual({ id: body.flow_run_id, flow_id: 'flow123', flow_name: 'Data processing flow', created_at: expect.any(String), status: 'completed' })
    expect(run.tasks[2]).toMatchObject({ flow_run_id: body.flow_run_id, task_name: 'task3', status: 'success', result: { success: true, data: expect.any(Object) }, error: null })
  })
})

describe('the flow registry service', () => {
  it('registers {flow_data: {flow}} with 201 {message}, serves the bare flow and executes it by flow_id with a context', async () => {
    const saved = await post('/flows', { flow_data: { flow: { ...SEED, id: 'registry-flow' } } })
    expect(saved.statusCode).toBe(201)
    expect(saved.json()).toMatchObject({ message: 'Flow registry-flow created successfully', flow_id: 'registry-flow', version: 1 })
    // The old clients read 201 either way; saving the same definition again adds no version.
    const again = await post('/flows', { flow_data: { flow: { ...SEED, id: 'registry-flow' } } })
    expect({ status: again.statusCode, body: again.json() }).toEqual({ status: 201, body: { message: 'Flow registry-flow unchanged (version 1)', flow_id: 'registry-flow', version: 1 } })
    expect((await t.app.inject({ url: '/flows/registry-flow' })).json()).toEqual({ ...SEED, id: 'registry-flow' })
    const res = await post('/flows/execute', { flow_id: 'registry-flow', context: { fail: [] } })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ flow_id: 'registry-flow', status: 'completed', context: { fail: [] }, start_time: expect.any(String), end_time: expect.any(String) })
    expect(Object.keys(body.task_results)).toEqual(['task1', 'task2', 'task3'])
    expect(body.task_results.task2).toEqual({ status: 'success', data: expect.any(Object), error: null, execution_time: expect.any(Number) })
    expect((await t.app.inject({ url: `/executions/${body.execution_id}` })).json()).toEqual(body)
  })

  it('answers unknown flows and executions with 404 and a detail', async () => {
    expect((await post('/flows/execute', { flow_id: 'nope', context: {} })).statusCode).toBe(404)
    expect((await t.app.inject({ url: '/flows/nope' })).json().detail).toContain('nope')
    expect((await t.app.inject({ url: '/executions/nope' })).statusCode).toBe(404)
    const missing = await post('/flows/execute', { context: {} })
    expect(missing.statusCode).toBe(422)
    expect(missing.json()).toEqual({ detail: [{ type: 'missing', loc: ['body', 'flow_id'], msg: expect.stringContaining('Field required') }] })
  })

  it('accepts a task name no type has where the canonical API still refuses it at validation', async () => {
    const flow = { ...SEED, id: 'unknown-task', start_task: 'taskX', tasks: [{ name: 'taskX' }], conditions: [] }
    expect((await post('/flows', { flow_data: { flow } })).statusCode).toBe(201)
    expect((await post('/run-flow', { flow })).json()).toMatchObject({ status: 'failed', execution_log: [{ task_name: 'taskX', success: false }] })
    const validated = (await post('/flow/validate', { flow })).json()
    expect(validated).toMatchObject({ valid: true, warnings: [expect.objectContaining({ code: 'UNKNOWN_TASK_TYPE', path: '/flow/tasks/0/name' })] })
    const canonical = await post('/api/v1/executions', { flow })
    expect(canonical.statusCode).toBe(422)
    expect(canonical.json().errors).toEqual([expect.objectContaining({ code: 'UNKNOWN_TASK_TYPE' })])
    expect((await post('/api/v1/flows', { ...flow, id: 'unknown-task-2' })).statusCode).toBe(422)
  })

  it('never changes the canonical representation of an execution it started', async () => {
    const body = (await post('/flows/execute', { flow_id: 'registry-flow', context: {} })).json()
    const canonical = (await t.app.inject({ url: `/api/v1/executions/${body.execution_id}` })).json()
    expect(canonical).toMatchObject({ execution_id: body.execution_id, flow_id: 'registry-flow', flow_version: 1, status: 'completed', executed_tasks: ['task1', 'task2', 'task3'] })
  })
})
