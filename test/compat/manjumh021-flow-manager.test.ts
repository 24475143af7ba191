import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ISO_UTC, SAMPLE_FLOW, startCompatServer, type CompatServer } from './compat-server.js'

/**
 * The checks a client of manjumh021/flow_manager (the Flask service of /flow/execute,
 * /flow/status/{id} and /flow/validate) makes, against our server over HTTP: the curl examples and
 * the success and failure scenarios of its README and DELIVERABLES.md, and the answers of its app.py
 * when something goes wrong.
 */

let s: CompatServer
beforeAll(async () => {
  s = await startCompatServer()
})
afterAll(async () => {
  await s.close()
})

const execute = (body: unknown) => s.call('POST', '/flow/execute', body)

describe('the README, with sample_flow.json', () => {
  it('executes the flow: completed, with the execution history of every task', async () => {
    const result = await execute(SAMPLE_FLOW)
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ execution_id: expect.any(String), flow_id: 'flow123', status: 'completed', start_time: expect.stringMatching(ISO_UTC), end_time: expect.stringMatching(ISO_UTC), error_message: null })
    expect(result.body.execution_history).toEqual(
      ['task1', 'task2', 'task3'].map((name) => ({ task_name: name, status: 'success', message: expect.any(String), data: expect.any(Object), timestamp: expect.stringMatching(ISO_UTC) })),
    )
    // That service left the last task it ran in current_task.
    expect(result.body.current_task).toBe('task3')
  })

  it('answers GET /flow/status/{execution_id} with the same execution', async () => {
    const result = await execute(SAMPLE_FLOW)
    const status = await s.call('GET', `/flow/status/${result.body.execution_id}`)
    expect(status.status).toBe(200)
    expect(status.body).toEqual(result.body)
  })

  it('validates the flow without running it: {valid: true, flow, message}', async () => {
    const result = await s.call('POST', '/flow/validate', SAMPLE_FLOW)
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ valid: true, flow: { id: 'flow123', start_task: 'task1' }, message: 'Flow definition is valid' })
  })

  it('answers GET /health', async () => {
    expect((await s.call('GET', '/health')).status).toBe(200)
  })
})

describe('the failure scenarios of the README and DELIVERABLES.md', () => {
  it('task1 fails: the flow ends after task1, status failed, the error message included, and 200 where that service answered 500', async () => {
    const result = await execute({ ...SAMPLE_FLOW, context: { fail: ['task1'] } })
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ status: 'failed', error_message: expect.stringContaining('task1'), current_task: 'task1' })
    expect(result.body.execution_history.map((h: { task_name: string; status: string }) => [h.task_name, h.status])).toEqual([['task1', 'failure']])
  })

  it('task2 fails: status failed, task3 is not executed', async () => {
    const result = await execute({ ...SAMPLE_FLOW, context: { fail: ['task2'] } })
    expect(result.body).toMatchObject({ status: 'failed', error_message: expect.stringContaining('task2') })
    expect(result.body.execution_history.map((h: { task_name: string }) => h.task_name)).toEqual(['task1', 'task2'])
  })

  it('task2 reached without task1 fails with "no data from task1", as that service\'s ProcessDataTask did', async () => {
    const result = await execute({ flow: { ...SAMPLE_FLOW.flow, start_task: 'task2' } })
    expect(result.body).toMatchObject({ status: 'failed', execution_history: [{ task_name: 'task2', status: 'failure', message: expect.stringMatching(/^no data from task1/) }] })
  })

  it('a task name no registry has fails that task, with 200 and the failed run', async () => {
    const flow = { ...SAMPLE_FLOW.flow, start_task: 'fetch', tasks: [{ name: 'fetch', description: 'Unknown here' }], conditions: [] }
    const result = await execute(flow)
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ status: 'failed', failed_task: 'fetch', execution_history: [{ task_name: 'fetch', status: 'failure', message: expect.stringContaining('not registered') }] })
  })
})

describe("what app.py answers when something is wrong", () => {
  it('an invalid flow: 400 {"error": "Invalid flow definition", "details"}', async () => {
    const result = await execute({ flow: { ...SAMPLE_FLOW.flow, start_task: 'nope' } })
    expect(result.status).toBe(400)
    expect(result.body).toMatchObject({ error: 'Invalid flow definition', details: expect.stringContaining('start_task names unknown task "nope"') })
  })

  it('no JSON: 400 {"error": "No JSON data provided"}', async () => {
    const result = await execute('not json')
    expect(result.status).toBe(400)
    expect(result.body.error).toBe('No JSON data provided')
  })

  it('an unknown execution: 404 {"error": "Execution ID \'…\' not found"}', async () => {
    expect(await s.call('GET', '/flow/status/nope')).toMatchObject({ status: 404, body: { error: "Execution ID 'nope' not found" } })
  })

  it('validating an invalid flow: 400 {"valid": false, "error"}', async () => {
    const result = await s.call('POST', '/flow/validate', { flow: { ...SAMPLE_FLOW.flow, tasks: [] } })
    expect(result.status).toBe(400)
    expect(result.body).toMatchObject({ valid: false, error: expect.stringContaining('/flow/tasks'), errors: expect.arrayContaining([expect.objectContaining({ code: 'NO_TASKS', path: '/flow/tasks' })]) })
  })

  it('a condition without "outcome" counts as outcome "success", as that service\'s parser read it', async () => {
    const conditions = SAMPLE_FLOW.flow.conditions.map(({ outcome: _outcome, ...rest }) => rest)
    const flow = { flow: { ...SAMPLE_FLOW.flow, conditions } }
    expect((await s.call('POST', '/flow/validate', flow)).body.valid).toBe(true)
    expect((await execute(flow)).body).toMatchObject({ status: 'completed', executed_tasks: ['task1', 'task2', 'task3'] })
  })
})
