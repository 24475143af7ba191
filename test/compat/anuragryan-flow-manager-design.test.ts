import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ISO_UTC, SAMPLE_FLOW, startCompatServer, type CompatServer } from './compat-server.js'

/**
 * The checks of anuragRyan/flow-manager-design's own clients, against our server over HTTP:
 * test_flow.py, the manual_test.py of its INSTALLATION.md, the parts of test_auth.py that concern
 * API keys, and the examples and error answers of its API_DOCUMENTATION.md.
 */

let s: CompatServer
beforeAll(async () => {
  s = await startCompatServer()
})
afterAll(async () => {
  await s.close()
})

const execute = (body: unknown, headers?: Record<string, string>) => s.call('POST', '/api/v1/flows/execute', body, headers)

describe('test_flow.py', () => {
  it('checks health, executes flows/sample_flow.json, reads the execution state and lists executions', async () => {
    const health = await s.call('GET', '/health')
    expect(health.status).toBe(200)
    expect(health.body).toEqual(expect.any(Object))

    const result = await execute(SAMPLE_FLOW)
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ execution_id: expect.any(String), flow_id: 'flow123', status: 'success', message: expect.any(String) })
    const taskResults = result.body.execution_state.task_results
    expect(taskResults.map((r: { task_name: string; status: string }) => [r.task_name, r.status])).toEqual([['task1', 'success'], ['task2', 'success'], ['task3', 'success']])
    for (const r of taskResults) expect(r).toEqual({ task_name: expect.any(String), status: 'success', data: expect.any(Object), error: null, started_at: expect.stringMatching(ISO_UTC), completed_at: expect.stringMatching(ISO_UTC) })

    expect((await s.call('GET', `/api/v1/flows/executions/${result.body.execution_id}`)).status).toBe(200)
    const list = await s.call('GET', '/api/v1/flows/executions')
    expect(list.status).toBe(200)
    expect(list.body.length).toBeGreaterThanOrEqual(1)
    expect(list.body).toEqual(expect.arrayContaining([result.body.execution_state]))
  })
})

describe("INSTALLATION.md's manual_test.py and expected output", () => {
  it('reads execution_id, status and message, then the flow_name of the execution state', async () => {
    const result = await execute(SAMPLE_FLOW)
    expect(result.body).toMatchObject({ status: 'success', message: "Flow 'Data processing flow' completed successfully. Executed 3 task(s)." })
    expect(result.body.execution_state.task_results[0].data).toMatchObject({ records: expect.any(Array) })
    const state = await s.call('GET', `/api/v1/flows/executions/${result.body.execution_id}`)
    expect(state.body).toMatchObject({ execution_id: result.body.execution_id, flow_name: 'Data processing flow', status: 'success', current_task: null, error: null, started_at: expect.stringMatching(ISO_UTC), completed_at: expect.stringMatching(ISO_UTC) })
  })
})

describe('API_DOCUMENTATION.md', () => {
  it('runs Example 1, a simple linear flow', async () => {
    const flow = { flow: { id: 'simple_flow', name: 'Simple linear flow', start_task: 'task1', tasks: [{ name: 'task1', description: 'First task' }, { name: 'task2', description: 'Second task' }], conditions: [{ name: 'cond1', description: 'Check task1', source_task: 'task1', outcome: 'success', target_task_success: 'task2', target_task_failure: 'end' }] } }
    expect((await execute(flow)).body).toMatchObject({ status: 'success', execution_state: { status: 'success' } })
  })

  it('accepts Example 2, whose task names no registry has, and answers its failed run with 200 (no 500)', async () => {
    const flow = {
      flow: {
        id: 'error_handling_flow',
        name: 'Flow with error handling',
        start_task: 'validate_data',
        tasks: [{ name: 'validate_data', description: 'Validate input' }, { name: 'process_data', description: 'Process valid data' }, { name: 'send_notification', description: 'Notify on failure' }],
        conditions: [
          { name: 'validate_check', description: 'Check validation', source_task: 'validate_data', outcome: 'success', target_task_success: 'process_data', target_task_failure: 'send_notification' },
          { name: 'process_check', description: 'Check processing', source_task: 'process_data', outcome: 'success', target_task_success: 'end', target_task_failure: 'send_notification' },
        ],
      },
    }
    const result = await execute(flow)
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ status: 'failure', message: expect.stringContaining("failed at task 'send_notification'"), execution_state: { status: 'failure', error: expect.any(String) } })
    expect(result.body.execution_state.task_results.map((r: { task_name: string }) => r.task_name)).toEqual(['validate_data', 'send_notification'])
    expect(result.body.execution_state.task_results[0]).toMatchObject({ status: 'failure', error: expect.stringContaining('"validate_data" is not registered') })
  })

  it('answers a failed run with 200 and status failure, where that service answered 500', async () => {
    const result = await execute({ ...SAMPLE_FLOW, context: { fail: ['task2'] } })
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ status: 'failure', message: expect.stringContaining("failed at task 'task2'") })
  })

  it('answers an invalid flow definition with 400 {"detail": "Invalid flow definition: …"}', async () => {
    const result = await execute({ flow: { ...SAMPLE_FLOW.flow, start_task: 'invalid' } })
    expect(result.status).toBe(400)
    expect(result.body).toEqual({ detail: expect.stringMatching(/^Invalid flow definition: \/flow\/start_task: start_task names unknown task "invalid"/) })
  })

  it('answers an unknown execution with 404 {"detail": "Execution \'…\' not found"}', async () => {
    expect(await s.call('GET', '/api/v1/flows/executions/exec_invalid')).toMatchObject({ status: 404, body: { detail: "Execution 'exec_invalid' not found" } })
  })

  it('answers GET /api/v1/health like /health', async () => {
    expect(await s.call('GET', '/api/v1/health')).toMatchObject({ status: 200, body: (await s.call('GET', '/health')).body })
  })
})

describe('test_auth.py, with API keys', () => {
  let secured: CompatServer
  beforeAll(async () => {
    secured = await startCompatServer({ apiKeys: ['fm_admin_key_12345', 'fm_user_key_67890'] })
  })
  afterAll(async () => {
    await secured.close()
  })

  it('leaves /health and /api/v1/health open', async () => {
    expect((await secured.call('GET', '/health')).status).toBe(200)
    expect((await secured.call('GET', '/api/v1/health')).status).toBe(200)
  })

  it('refuses the executions list without a key, or with an invalid X-API-Key, with 401 and a JSON body', async () => {
    const none = await secured.call('GET', '/api/v1/flows/executions')
    expect(none.status).toBe(401)
    expect(none.body).toEqual(expect.objectContaining({ detail: expect.any(String) }))
    expect((await secured.call('GET', '/api/v1/flows/executions', undefined, { 'X-API-Key': 'invalid_key' })).status).toBe(401)
  })

  it('accepts the keys as X-API-Key and as Authorization: Bearer, for reading and for executing', async () => {
    expect((await secured.call('GET', '/api/v1/flows/executions', undefined, { 'X-API-Key': 'fm_admin_key_12345' })).status).toBe(200)
    const run = await secured.call('POST', '/api/v1/flows/execute', SAMPLE_FLOW, { Authorization: 'Bearer fm_user_key_67890' })
    expect(run).toMatchObject({ status: 200, body: { status: 'success', execution_id: expect.any(String) } })
    const byApiKey = await secured.call('POST', '/api/v1/flows/execute', SAMPLE_FLOW, { 'X-API-Key': 'fm_user_key_67890' })
    expect(byApiKey.status).toBe(200)
  })
})
