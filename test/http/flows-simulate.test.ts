import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, SEED, type TestApp } from './helpers.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t.close()
})

describe('POST /api/v1/flows/simulate', () => {
  it('answers the path and status for the given outcomes without running anything', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/flows/simulate', payload: { flow: { flow: SEED }, outcomes: { task2: 'failure' } } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ path: ['task1', 'task2'], status: 'failed', steps: 2, failed_task: 'task2', error: { code: 'TASK_FAILED' } })
  })

  it('routes data conditions on the data and input given', async () => {
    const flow = {
      ...SEED,
      conditions: [{ name: 'c', source_task: 'task1', when: 'results.task1.data.records > input.min', target_task_success: 'task2', target_task_failure: 'task3' }],
    }
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/flows/simulate', payload: { flow, input: { min: 5 }, outcomes: {}, data: { task1: { records: 2 } } } })
    expect(res.json()).toMatchObject({ path: ['task1', 'task3'], status: 'completed' })
  })

  it('answers 422 with every issue for an invalid flow', async () => {
    const flow = { ...SEED, conditions: [{ name: 'c', source_task: 'task1', when: 'input.(', target_task_success: 'task2', target_task_failure: 'end' }] }
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/flows/simulate', payload: { flow, outcomes: {} } })
    expect(res.statusCode).toBe(422)
    expect(res.json().errors).toEqual([expect.objectContaining({ code: 'EXPRESSION_INVALID', path: '/conditions/0/when' })])
  })

  it('answers 400 for an outcome that names no task or is not success or failure', async () => {
    const unknown = await t.app.inject({ method: 'POST', url: '/api/v1/flows/simulate', payload: { flow: SEED, outcomes: { task9: 'failure' } } })
    expect(unknown.statusCode).toBe(400)
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/flows/simulate', payload: { flow: SEED, outcomes: { task2: 'maybe' } } })
    expect(bad.statusCode).toBe(400)
  })
})
