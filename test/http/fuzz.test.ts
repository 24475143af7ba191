import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, SEED, type TestApp } from './helpers.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ defaultWaitMs: 5_000 })
})
afterAll(async () => {
  await t.close()
})

/** A 4xx problem, or a 2xx answer that is JSON; never a 5xx. */
function expectSafeAnswer(res: LightMyRequestResponse): void {
  expect(res.statusCode).toBeLessThan(500)
  if (res.statusCode >= 400) {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json()).toMatchObject({ status: res.statusCode, code: expect.any(String), detail: expect.any(String) })
  } else {
    expect(res.statusCode).toBeGreaterThanOrEqual(200)
    expect(() => JSON.parse(res.body) as unknown).not.toThrow()
  }
}

const send = (url: string, payload: string) => t.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } })

/** Arbitrary JSON texts, and objects shaped like the real requests with arbitrary parts. */
const bodies = (shaped: fc.Arbitrary<unknown>): fc.Arbitrary<string> =>
  fc.oneof(fc.json(), shaped.map((value) => JSON.stringify(value)), fc.string())

describe('arbitrary JSON never makes a 5xx', () => {
  it('POST /api/v1/executions', async () => {
    const shaped = fc.record(
      { flow: fc.oneof(fc.constant(SEED), fc.jsonValue()), flow_id: fc.string(), input: fc.jsonValue(), wait: fc.boolean(), wait_ms: fc.integer({ min: -5, max: 100 }) },
      { requiredKeys: [] },
    )
    await fc.assert(
      fc.asyncProperty(bodies(shaped), async (body) => {
        expectSafeAnswer(await send('/api/v1/executions', body))
      }),
      { numRuns: 200 },
    )
  })

  it('POST /api/v1/flows/validate', async () => {
    const shaped = fc.record({ flow: fc.record({ ...Object.fromEntries(Object.keys(SEED).map((k) => [k, fc.jsonValue()])) }, { requiredKeys: [] }) })
    await fc.assert(
      fc.asyncProperty(bodies(shaped), async (body) => {
        const res = await send('/api/v1/flows/validate', body)
        expectSafeAnswer(res)
        if (res.statusCode === 200) expect(typeof res.json().valid).toBe('boolean')
      }),
      { numRuns: 200 },
    )
  })

  it('POST /api/v1/flows', async () => {
    const task = fc.record({ name: fc.string({ maxLength: 5 }), type: fc.constantFrom('noop', 'task1', 'nope'), input: fc.dictionary(fc.string(), fc.jsonValue()) }, { requiredKeys: ['name'] })
    const shaped = fc.record({ id: fc.string(), name: fc.string(), start_task: fc.string({ maxLength: 5 }), tasks: fc.array(task, { maxLength: 4 }), conditions: fc.array(fc.jsonValue(), { maxLength: 2 }) }, { requiredKeys: [] })
    await fc.assert(
      fc.asyncProperty(bodies(shaped), async (body) => {
        const res = await send('/api/v1/flows', body)
        expectSafeAnswer(res)
        if (res.statusCode === 201) expect(res.json()).toMatchObject({ id: expect.any(String), version: expect.any(Number) })
      }),
      { numRuns: 200 },
    )
  })
})

describe('arbitrary JSON never makes a 5xx on the seed-compatible routes either', () => {
  const task = fc.record({ name: fc.constantFrom('task1', 'task2', 'task3', 'taskX', '__proto__'), description: fc.string({ maxLength: 3 }) }, { requiredKeys: ['name'] })
  const condition = fc.record(
    { name: fc.string({ maxLength: 3 }), source_task: fc.constantFrom('task1', 'task2', 'taskX'), outcome: fc.constantFrom('success', 'failure', 'maybe'), target_task_success: fc.constantFrom('task1', 'task2', 'task3', 'end'), target_task_failure: fc.constantFrom('task2', 'end') },
    { requiredKeys: ['name', 'source_task'] },
  )
  const flow = fc.oneof(
    fc.constant(SEED),
    fc.record({ id: fc.string({ maxLength: 5 }), name: fc.string({ maxLength: 5 }), start_task: fc.constantFrom('task1', 'task2', 'taskX'), tasks: fc.array(task, { maxLength: 4 }), conditions: fc.array(condition, { maxLength: 3 }) }, { requiredKeys: [] }),
    fc.jsonValue(),
  )
  const shaped = fc.record({ flow, flow_data: fc.oneof(flow.map((f) => ({ flow: f })), fc.jsonValue()), flow_id: fc.oneof(fc.constantFrom('flow123', 'nope'), fc.jsonValue()), context: fc.jsonValue(), input: fc.jsonValue() }, { requiredKeys: [] })

  it.each(['/flow/execute', '/flow/validate', '/run-flow', '/api/v1/flows/execute', '/flows', '/flows/execute'])('POST %s', async (url) => {
    await fc.assert(
      fc.asyncProperty(bodies(shaped), async (body) => {
        const res = await send(url, body)
        expect(res.statusCode, body).toBeLessThan(500)
        expect(res.statusCode, body).toBeGreaterThanOrEqual(200)
        expect(typeof res.json()).toBe('object')
      }),
      { numRuns: 100 },
    )
  })
})
