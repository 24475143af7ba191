import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, expectProblem, SEED, type TestApp } from './helpers.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t.close()
})

describe('flows', () => {
  it('validates a valid flow with 200 and valid true', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/flows/validate', payload: { flow: SEED } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ valid: true, errors: [], warnings: [] })
  })

  it('validates an invalid flow with 200, valid false and every issue with its pointer', async () => {
    const bad = { flow: { ...SEED, conditions: [{ ...SEED.conditions[0], target_task_sucess: 'task2' }] } }
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/flows/validate', payload: bad })
    expect(res.statusCode).toBe(200)
    expect(res.json().valid).toBe(false)
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain('/flow/conditions/0/target_task_sucess')
  })

  it('registers a flow with 201 and a Location, and a new version per registration', async () => {
    const first = await t.app.inject({ method: 'POST', url: '/api/v1/flows', payload: { flow: SEED } })
    expect(first.statusCode).toBe(201)
    expect(first.json()).toMatchObject({ id: 'flow123', version: 1, name: 'Data processing flow', flow: SEED })
    expect(first.headers.location).toBe('/api/v1/flows/flow123?version=1')
    const second = await t.app.inject({ method: 'POST', url: '/api/v1/flows', payload: { ...SEED, name: 'Renamed' } })
    expect(second.statusCode).toBe(201)
    expect(second.json()).toMatchObject({ version: 2, name: 'Renamed' })
  })

  it('answers 200 with the latest version, adding none, when the definition is unchanged', async () => {
    const again = await t.app.inject({ method: 'POST', url: '/api/v1/flows', payload: { flow: { ...SEED, name: 'Renamed' } } })
    expect(again.statusCode).toBe(200)
    expect(again.json()).toMatchObject({ id: 'flow123', version: 2, name: 'Renamed' })
    expect(again.headers.location).toBe('/api/v1/flows/flow123?version=2')
    // Key order does not make a definition different.
    const reordered = Object.fromEntries(Object.entries({ ...SEED, name: 'Renamed' }).reverse())
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/flows', payload: reordered })).statusCode).toBe(200)
    expect((await t.app.inject({ url: '/api/v1/flows/flow123' })).json()).toMatchObject({ version: 2 })
  })

  it('refuses to register an invalid flow with 422 and its issues', async () => {
    const body = expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/flows', payload: { ...SEED, tasks: [] } }), 422, 'FLOW_INVALID')
    expect(body.errors[0]).toMatchObject({ path: '/tasks' })
  })

  it('answers the latest version, or the one asked for, and 404 for unknown ids or versions', async () => {
    expect((await t.app.inject({ url: '/api/v1/flows/flow123' })).json()).toMatchObject({ version: 2, name: 'Renamed' })
    expect((await t.app.inject({ url: '/api/v1/flows/flow123?version=1' })).json()).toMatchObject({ version: 1, name: 'Data processing flow' })
    expectProblem(await t.app.inject({ url: '/api/v1/flows/flow123?version=9' }), 404, 'FLOW_NOT_FOUND')
    expectProblem(await t.app.inject({ url: '/api/v1/flows/unknown' }), 404, 'FLOW_NOT_FOUND')
    expectProblem(await t.app.inject({ url: '/api/v1/flows/flow123?version=x' }), 400, 'REQUEST_INVALID')
  })

  it('lists the latest version of each flow with cursor paging', async () => {
    for (const id of ['a-flow', 'b-flow']) await t.app.inject({ method: 'POST', url: '/api/v1/flows', payload: { ...SEED, id } })
    const first = (await t.app.inject({ url: '/api/v1/flows?limit=2' })).json()
    expect(first.items.map((f: { id: string }) => f.id)).toEqual(['a-flow', 'b-flow'])
    const second = (await t.app.inject({ url: `/api/v1/flows?limit=2&cursor=${first.next_cursor}` })).json()
    expect(second).toMatchObject({ items: [{ id: 'flow123', version: 2, task_count: 3 }], next_cursor: null })
  })

  it('reaches a flow whose id is 200 characters long', async () => {
    const id = 'f'.repeat(200)
    await t.app.inject({ method: 'POST', url: '/api/v1/flows', payload: { ...SEED, id } })
    expect((await t.app.inject({ url: `/api/v1/flows/${id}` })).statusCode).toBe(200)
  })
})

describe('tasks', () => {
  it('lists the task types with descriptions and input schemas', async () => {
    const res = await t.app.inject({ url: '/api/v1/tasks' })
    expect(res.statusCode).toBe(200)
    const delay = res.json().items.find((x: { name: string }) => x.name === 'delay')
    expect(delay).toMatchObject({ description: expect.any(String), input_schema: { type: 'object', properties: { ms: expect.any(Object) } } })
    expect(res.json().items.find((x: { name: string }) => x.name === 'noop').input_schema).toBeNull()
  })
})

describe('operations', () => {
  it('answers /health with status ok', async () => {
    expect((await t.app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' })
  })

  it('answers /ready with 200 when the database answers and 503 when it does not', async () => {
    expect((await t.app.inject({ url: '/ready' })).statusCode).toBe(200)
    const broken = await createTestApp({}, (store) => ({ ...store, ping: () => Promise.reject(new Error('disk on fire')) }))
    try {
      const body = expectProblem(await broken.app.inject({ url: '/ready' }), 503, 'STORE_UNAVAILABLE')
      expect(JSON.stringify(body)).not.toContain('disk on fire')
    } finally {
      await broken.close()
    }
  })

  it('exposes Prometheus metrics about executions, task runs and HTTP requests', async () => {
    await t.app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: SEED } })
    const res = await t.app.inject({ url: '/metrics' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.body).toMatch(/flow_manager_executions_started_total\{flow_id="inline"\} \d+/)
    expect(res.body).toMatch(/flow_manager_executions_finished_total\{flow_id="inline",status="completed"\} \d+/)
    expect(res.body).toMatch(/flow_manager_task_run_duration_seconds_count\{task_type="task2",status="success"\} \d+/)
    expect(res.body).toContain('flow_manager_executions_running 0')
    expect(res.body).toContain('flow_manager_queue_depth 0')
    expect(res.body).toMatch(/flow_manager_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/executions",status_code="200"\} \d+/)
  })

  it('serves no /metrics when metrics are turned off', async () => {
    const plain = await createTestApp({ metrics: false })
    try {
      expectProblem(await plain.app.inject({ url: '/metrics' }), 404, 'ROUTE_NOT_FOUND')
    } finally {
      await plain.close()
    }
  })

  it('serves an OpenAPI 3.1 document with every canonical route and the seed flow as an example', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json()
    expect(doc.openapi).toBe('3.1.0')
    for (const path of ['/api/v1/tasks', '/api/v1/flows/validate', '/api/v1/flows', '/api/v1/flows/{id}', '/api/v1/executions', '/api/v1/executions/{id}', '/api/v1/executions/{id}/events', '/api/v1/executions/{id}/cancel', '/api/v1/executions/{id}/resume', '/health', '/ready']) {
      expect(Object.keys(doc.paths)).toContain(path)
    }
    expect(JSON.stringify(doc.paths['/api/v1/executions'].post.requestBody)).toContain('condition_task1_result')
  })

  it('serves the interactive docs and their assets from the package under the security headers', async () => {
    const page = await t.app.inject({ url: '/docs' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    expect(page.body).not.toMatch(/https?:\/\/(cdn|unpkg)/)
    expect((await t.app.inject({ url: '/docs/static/swagger-ui-bundle.js' })).statusCode).toBe(200)
    expect((await t.app.inject({ url: '/docs/json' })).json().openapi).toBe('3.1.0')
  })

  it('redirects / to /ui/, an HTML page that also links the API docs', async () => {
    const root = await t.app.inject({ url: '/' })
    expect(root.statusCode).toBe(302)
    expect(root.headers.location).toBe('/ui/')
    const ui = await t.app.inject({ url: '/ui/' })
    expect(ui.headers['content-type']).toMatch(/^text\/html/)
    expect(ui.body).toContain('href="/docs"')
  })

  it('sends security headers and no CORS headers by default, and CORS when configured', async () => {
    const res = await t.app.inject({ url: '/health', headers: { origin: 'https://example.com' } })
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    const open = await createTestApp({ cors: ['https://example.com'] })
    try {
      const allowed = await open.app.inject({ url: '/health', headers: { origin: 'https://example.com' } })
      expect(allowed.headers['access-control-allow-origin']).toBe('https://example.com')
    } finally {
      await open.close()
    }
  })
})
