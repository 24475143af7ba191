import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, expectProblem, SEED, type TestApp } from './helpers.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp({ bodyLimit: 64 * 1024 })
})
afterAll(async () => {
  await t.close()
})

const raw = (payload: string, contentType = 'application/json', url = '/api/v1/executions') =>
  t.app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } })

describe('framework errors are problems', () => {
  it('answers malformed JSON with 400 JSON_INVALID', async () => {
    const body = expectProblem(await raw('{"flow": '), 400, 'JSON_INVALID')
    expect(body.detail).toMatch(/not valid JSON/)
  })

  it('answers an unknown route with 404 ROUTE_NOT_FOUND', async () => {
    expectProblem(await t.app.inject({ url: '/api/v1/nothing-here' }), 404, 'ROUTE_NOT_FOUND')
    expectProblem(await t.app.inject({ method: 'DELETE', url: '/api/v1/flows' }), 404, 'ROUTE_NOT_FOUND')
  })

  it('answers a body over the limit with 413 BODY_TOO_LARGE', async () => {
    expectProblem(await raw(JSON.stringify({ flow: SEED, input: { blob: 'x'.repeat(70 * 1024) } })), 413, 'BODY_TOO_LARGE')
  })

  it('answers a content type other than JSON with 415 MEDIA_TYPE_UNSUPPORTED, saying which header is missing', async () => {
    // What `curl -d @flow.json` sends when the header is left out.
    const form = expectProblem(await raw('{"flow": {}}', 'application/x-www-form-urlencoded'), 415, 'MEDIA_TYPE_UNSUPPORTED')
    expect(form.detail).toBe(
      'the body must be JSON sent with the header "content-type: application/json" (with curl: -H \'content-type: application/json\'); this request had content-type "application/x-www-form-urlencoded"',
    )
    expect(expectProblem(await raw('hello', 'text/plain'), 415, 'MEDIA_TYPE_UNSUPPORTED').detail).toContain('content-type: application/json')
  })

  it('answers a body without a content-type header with 415 naming the header', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/flows', payload: Buffer.from('{"id": "x"}') })
    expect(expectProblem(res, 415, 'MEDIA_TYPE_UNSUPPORTED').detail).toMatch(/"content-type: application\/json".*no content-type header$/)
  })

  it('refuses JSON nested deeper than 64 levels with 400 JSON_TOO_DEEP', async () => {
    const deep = `{"flow": ${JSON.stringify(SEED)}, "input": ${'['.repeat(100)}${']'.repeat(100)}}`
    expectProblem(await raw(deep), 400, 'JSON_TOO_DEEP')
    const fine = `{"flow": ${JSON.stringify(SEED)}, "input": {"a": "${'['.repeat(100)}"}}`
    expect((await raw(fine)).statusCode).toBe(200)
  })

  it('reports schema violations as 400 REQUEST_INVALID with a JSON pointer per issue', async () => {
    const body = expectProblem(await raw(JSON.stringify({ flow_id: 3, wait: 'yes' })), 400, 'REQUEST_INVALID')
    expect(body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'INVALID_TYPE', path: '/flow_id' }),
        expect.objectContaining({ code: 'INVALID_TYPE', path: '/wait' }),
      ]),
    )
  })
})

describe('hostile keys are data', () => {
  it('round-trips __proto__ and constructor keys in the input as data, polluting nothing', async () => {
    const payload = '{"flow": ' + JSON.stringify(SEED) + ', "input": {"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}}'
    const res = await raw(payload)
    expect(res.statusCode).toBe(200)
    const input = JSON.parse(JSON.stringify(res.json().input)) as Record<string, unknown>
    expect(Object.keys(input).sort()).toEqual(['__proto__', 'constructor'])
    expect(res.body).toContain('"__proto__":{"polluted":true}')
    const stored = await t.app.inject({ url: `/api/v1/executions/${res.json().execution_id}` })
    expect(stored.body).toContain('"__proto__":{"polluted":true}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('accepts a task named __proto__ as an ordinary name', async () => {
    const flow = { id: 'proto', name: 'p', start_task: '__proto__', tasks: [{ name: '__proto__', type: 'noop' }], conditions: [] }
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow } })
    expect(res.statusCode).toBe(200)
    expect(res.json().executed_tasks).toEqual(['__proto__'])
  })
})

describe('unexpected faults', () => {
  it('answers a thrown store error with a generic 500 problem that leaks no internals', async () => {
    const broken = await createTestApp({}, (store) => ({
      ...store,
      getExecution: () => Promise.reject(new Error('SQLITE_CORRUPT: secret /var/lib/db path')),
    }))
    try {
      const res = await broken.app.inject({ url: '/api/v1/executions/some-id' })
      const body = expectProblem(res, 500, 'INTERNAL')
      expect(res.body).not.toContain('SQLITE_CORRUPT')
      expect(res.body).not.toContain('/var/lib')
      expect(body.detail).toBe('an unexpected error occurred; it has been logged')
    } finally {
      await broken.close()
    }
  })
})
