import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCompatServer, type CompatServer } from './compat-server.js'

/**
 * The checks a client of surendrasinghsodha/flow-manager-python (the FastAPI service of
 * POST /flow/execute) makes, against our server over HTTP: its README's example request, its
 * success and failure responses, and what its API did with task names it did not know.
 */

let s: CompatServer
beforeAll(async () => {
  s = await startCompatServer()
})
afterAll(async () => {
  await s.close()
})

/** The README's request: conditions without descriptions. */
const README_FLOW = {
  flow: {
    id: 'flow123',
    name: 'Data processing flow',
    start_task: 'task1',
    tasks: [
      { name: 'task1', description: 'Fetch data' },
      { name: 'task2', description: 'Process data' },
      { name: 'task3', description: 'Store data' },
    ],
    conditions: [
      { name: 'condition_task1', source_task: 'task1', outcome: 'success', target_task_success: 'task2', target_task_failure: 'end' },
      { name: 'condition_task2', source_task: 'task2', outcome: 'success', target_task_success: 'task3', target_task_failure: 'end' },
    ],
  },
}

const execute = (body: unknown) => s.call('POST', '/flow/execute', body)

describe('the README', () => {
  it('answers the example request as its success response', async () => {
    const result = await execute(README_FLOW)
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ flow_id: 'flow123', status: 'completed', executed_tasks: ['task1', 'task2', 'task3'], failed_task: null })
  })

  it('answers a flow that starts at task2 as its failure response: task2 has no data from task1', async () => {
    const result = await execute({ flow: { ...README_FLOW.flow, start_task: 'task2' } })
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ flow_id: 'flow123', status: 'failed', executed_tasks: ['task2'], failed_task: 'task2' })
  })
})

describe('what its API did with other flows', () => {
  it('fails task3 reached without task2, as its StoreDataTask did without data', async () => {
    const result = await execute({ flow: { ...README_FLOW.flow, start_task: 'task3' } })
    expect(result.body).toMatchObject({ status: 'failed', executed_tasks: ['task3'], failed_task: 'task3' })
  })

  it('fails a task whose name it had no implementation for, with 200 where it answered 500', async () => {
    const flow = { flow: { ...README_FLOW.flow, tasks: [...README_FLOW.flow.tasks, { name: 'task4', description: 'Unknown' }], conditions: [...README_FLOW.flow.conditions, { name: 'c3', source_task: 'task3', outcome: 'success', target_task_success: 'task4', target_task_failure: 'end' }] } }
    const result = await execute(flow)
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ status: 'failed', executed_tasks: ['task1', 'task2', 'task3', 'task4'], failed_task: 'task4' })
  })

  it('refuses a request without a required field; with 400 {"error", "details"}, the answer of the other service on this path', async () => {
    const { conditions: _conditions, ...withoutConditions } = README_FLOW.flow
    const result = await execute({ flow: withoutConditions })
    expect(result.status).toBe(400)
    expect(result.body).toMatchObject({ error: 'Invalid flow definition', details: expect.stringContaining('required field "conditions" is missing') })
  })
})
