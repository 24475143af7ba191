import type { RouteOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseApiKeys } from '../../src/http/auth.js'
import { createTestApp, expectProblem, type TestApp } from './helpers.js'

/** What the README's "Auth" leaves open when keys are set; everything else must answer 401 without a key. */
const OPEN = (url: string): boolean =>
  ['/health', '/api/v1/health', '/ready', '/openapi.json', '/metrics', '/'].includes(url) || url === '/docs' || url.startsWith('/docs/') || url === '/ui' || url.startsWith('/ui/')

const routes: { method: string; url: string }[] = []
let t: TestApp
beforeAll(async () => {
  t = await createTestApp({
    apiKeys: ['key-one', 'key-two'],
    onRoute: (route: RouteOptions) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url })
    },
  })
})
afterAll(async () => {
  await t.close()
})

const concrete = (url: string): string => url.replace(/:[^/]+/g, 'some-id').replace(/\*$/, 'x')

describe('API keys', () => {
  it('collects a route table that includes the canonical, operational and seed-compatible routes', () => {
    const urls = routes.map((r) => `${r.method} ${r.url}`)
    expect(urls).toEqual(expect.arrayContaining(['POST /api/v1/executions', 'GET /api/v1/executions/:id/events', 'POST /flow/execute', 'GET /docs/static/*', 'GET /metrics', 'GET /api/v1/health']))
  })

  it('closes every route outside the public list without a key or with a wrong one', async () => {
    const closed = routes.filter((r) => !OPEN(r.url))
    expect(closed.length).toBeGreaterThan(20)
    for (const route of closed) {
      const url = concrete(route.url)
      const method = route.method as 'GET' | 'HEAD'
      const missing = await t.app.inject({ method, url })
      expect({ route, status: missing.statusCode }).toEqual({ route, status: 401 })
      if (method !== 'HEAD') expectProblem(missing, 401, 'UNAUTHORIZED')
      const wrong = await t.app.inject({ method, url, headers: { authorization: 'Bearer key-three' } })
      expect({ route, status: wrong.statusCode }).toEqual({ route, status: 401 })
      const wrongApiKey = await t.app.inject({ method, url, headers: { 'x-api-key': 'key-three' } })
      expect({ route, status: wrongApiKey.statusCode }).toEqual({ route, status: 401 })
    }
  })

  it('lets every key through on closed routes', async () => {
    for (const key of ['key-one', 'key-two']) {
      const res = await t.app.inject({ url: '/api/v1/tasks', headers: { authorization: `Bearer ${key}` } })
      expect(res.statusCode).toBe(200)
    }
    const other = await t.app.inject({ url: '/api/v1/executions/some-id', headers: { authorization: 'Bearer key-one' } })
    expectProblem(other, 404, 'EXECUTION_NOT_FOUND')
  })

  it('accepts the same keys in an X-API-Key header, as clients of one original service send them', async () => {
    for (const key of ['key-one', 'key-two']) {
      expect((await t.app.inject({ url: '/api/v1/flows/executions', headers: { 'x-api-key': key } })).statusCode).toBe(200)
      expect((await t.app.inject({ url: '/api/v1/tasks', headers: { 'x-api-key': key } })).statusCode).toBe(200)
    }
    // Either header may carry the key; a wrong one beside it does not hide the right one.
    const both = await t.app.inject({ url: '/api/v1/tasks', headers: { authorization: 'Bearer nope', 'x-api-key': 'key-two' } })
    expect(both.statusCode).toBe(200)
    const missing = expectProblem(await t.app.inject({ url: '/api/v1/tasks' }), 401, 'UNAUTHORIZED')
    expect(missing.detail).toContain('X-API-Key')
  })

  it('leaves the public routes open without a key', async () => {
    for (const route of routes.filter((r) => OPEN(r.url) && r.method === 'GET')) {
      const res = await t.app.inject({ url: concrete(route.url) })
      expect({ route, status: res.statusCode }).not.toEqual({ route, status: 401 })
    }
  })

  it('can close /metrics too', async () => {
    const strict = await createTestApp({ apiKeys: ['k'], metricsPublic: false })
    try {
      expectProblem(await strict.app.inject({ url: '/metrics' }), 401, 'UNAUTHORIZED')
      expect((await strict.app.inject({ url: '/metrics', headers: { authorization: 'Bearer k' } })).statusCode).toBe(200)
    } finally {
      await strict.close()
    }
  })

  it('asks for a key on unknown routes rather than revealing which exist', async () => {
    expectProblem(await t.app.inject({ url: '/api/v1/secret' }), 401, 'UNAUTHORIZED')
  })

  it('reads FLOW_MANAGER_API_KEYS as a comma-separated list, ignoring blanks', () => {
    expect(parseApiKeys(' a, b ,,c ')).toEqual(['a', 'b', 'c'])
    expect(parseApiKeys(undefined)).toEqual([])
  })
})
