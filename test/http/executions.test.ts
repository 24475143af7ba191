import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, delayFlow, expectProblem, SEED, type TestApp } from './helpers.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => {
  await t.close()
})

const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, ...(payload === undefined ? {} : { payload: payload as object }), headers })

describe('POST /api/v1/executions', () => {
  it('runs an inline seed flow synchronously and answers 200 with the finished execution', async () => {
    const res = await post('/api/v1/executions', { flow: SEED })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ flow_id: 'flow123', flow_version: null, status: 'completed', executed_tasks: ['task1', 'task2', 'task3'], failed_task: null, error: null })
    expect(body.task_results[0]).toMatchObject({ task_name: 'task1', status: 'success', attempt: 1, next_task: 'task2' })
  })

  it('runs a registered flow pinned to the version asked for', async () => {
    await post('/api/v1/flows', { flow: { ...SEED, id: 'pinned' } })
    await post('/api/v1/flows', { flow: { ...SEED, id: 'pinned', name: 'second version' } })
    const latest = await post('/api/v1/executions', { flow_id: 'pinned' })
    expect(latest.json()).toMatchObject({ flow_id: 'pinned', flow_version: 2, status: 'completed' })
    const first = await post('/api/v1/executions', { flow_id: 'pinned', version: 1 })
    expect(first.json()).toMatchObject({ flow_version: 1 })
  })

  it('answers 200 with a failed execution when a task fails', async () => {
    const res = await post('/api/v1/executions', { flow: SEED, input: { fail: ['task2'] } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'failed', failed_task: 'task2', executed_tasks: ['task1', 'task2'] })
  })

  it('answers 202 with a Location at once when wait is false', async () => {
    const res = await post('/api/v1/executions', { flow: delayFlow(50), wait: false })
    expect(res.statusCode).toBe(202)
    expect(res.headers.location).toBe(`/api/v1/executions/${res.json().execution_id}`)
    expect(['pending', 'running']).toContain(res.json().status)
  })

  it('answers 202 when the execution is not finished within wait_ms', async () => {
    const res = await post('/api/v1/executions', { flow: delayFlow(60_000), wait_ms: 0 })
    expect(res.statusCode).toBe(202)
    expect(res.json().status).toBe('running')
    await post(`/api/v1/executions/${res.json().execution_id}/cancel`)
  })

  it('returns the same execution for a repeated Idempotency-Key', async () => {
    const first = await post('/api/v1/executions', { flow: SEED }, { 'idempotency-key': 'key-1' })
    const again = await post('/api/v1/executions', { flow: SEED }, { 'idempotency-key': 'key-1' })
    expect(again.statusCode).toBe(200)
    expect(again.json().execution_id).toBe(first.json().execution_id)
  })

  it('refuses an Idempotency-Key that is not printable ASCII with 400', async () => {
    expectProblem(await post('/api/v1/executions', { flow: SEED }, { 'idempotency-key': 'x'.repeat(300) }), 400, 'REQUEST_INVALID')
  })

  it('answers 422 with every issue of an invalid inline flow, pointing into the request body', async () => {
    const body = expectProblem(await post('/api/v1/executions', { flow: { ...SEED, start_task: 'nope', extra: 1 } }), 422, 'FLOW_INVALID')
    const paths = body.errors.map((e: { path: string }) => e.path)
    expect(paths).toEqual(expect.arrayContaining(['/flow/start_task', '/flow/extra']))
  })

  it('answers 404 FLOW_NOT_FOUND for an unregistered flow id', async () => {
    expectProblem(await post('/api/v1/executions', { flow_id: 'never-registered' }), 404, 'FLOW_NOT_FOUND')
  })

  it('answers 400 with JSON pointers when the body mixes flow and flow_id or has unknown keys', async () => {
    const both = expectProblem(await post('/api/v1/executions', { flow: SEED, flow_id: 'x' }), 400, 'REQUEST_INVALID')
    expect(both.errors[0]?.path).toBe('/flow_id')
    const unknown = expectProblem(await post('/api/v1/executions', { flow: SEED, wiat: false }), 400, 'REQUEST_INVALID')
    expect(unknown.errors).toEqual([{ code: 'UNKNOWN_KEY', path: '/wiat', message: 'unknown key "wiat"' }])
    const neither = expectProblem(await post('/api/v1/executions', {}), 400, 'REQUEST_INVALID')
    expect(neither.errors).toHaveLength(1)
    expectProblem(await post('/api/v1/executions', { flow: SEED, wait_ms: -1 }), 400, 'REQUEST_INVALID')
  })
})

describe('GET /api/v1/executions', () => {
  it('lists newest first with status and flow_id filters and stable cursor paging', async () => {
    const local = await createTestApp()
    try {
      const ids: string[] = []
      for (let i = 0; i < 5; i++) {
        const res = await local.app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: SEED, input: i === 0 ? { fail: 'task1' } : {} } })
        ids.push(res.json().execution_id)
      }
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const page: { items: { execution_id: string }[]; next_cursor: string | null } = (await local.app.inject({ url: `/api/v1/executions?limit=2${cursor === null ? '' : `&cursor=${cursor}`}` })).json()
        expect(page.items.length).toBeLessThanOrEqual(2)
        seen.push(...page.items.map((e) => e.execution_id))
        cursor = page.next_cursor
      } while (cursor !== null)
      expect(seen).toEqual([...ids].reverse())
      const failed = (await local.app.inject({ url: '/api/v1/executions?status=failed' })).json()
      expect(failed.items.map((e: { execution_id: string }) => e.execution_id)).toEqual([ids[0]])
      expect((await local.app.inject({ url: '/api/v1/executions?flow_id=other' })).json()).toEqual({ items: [], next_cursor: null })
    } finally {
      await local.close()
    }
  })

  it('filters by id prefix and by a creation time range', async () => {
    const local = await createTestApp()
    try {
      const run = async () => (await local.app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: SEED } })).json<{ execution_id: string; created_at: string }>()
      const first = await run()
      const second = await run()
      const list = async (query: string) => (await local.app.inject({ url: `/api/v1/executions?${query}` })).json<{ items: { execution_id: string }[] }>().items.map((e) => e.execution_id)
      expect(await list(`id_prefix=${second.execution_id.slice(0, -2)}`)).toContain(second.execution_id)
      expect(await list(`id_prefix=${second.execution_id}`)).toEqual([second.execution_id])
      expect(await list(`id_prefix=${encodeURIComponent('no-such-')}`)).toEqual([])
      expect(await list(`created_after=${second.created_at}`)).toEqual([second.execution_id])
      expect(await list(`created_before=${second.created_at}`)).toEqual(first.created_at === second.created_at ? [] : [first.execution_id])
      const hourAgo = new Date(Date.parse(first.created_at) - 3_600_000).toISOString()
      expect(await list(`created_after=${encodeURIComponent(hourAgo.replace('Z', '+00:00'))}&created_before=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([
        second.execution_id,
        first.execution_id,
      ])
    } finally {
      await local.close()
    }
  })

  it('answers 400 naming the parameter for a bad time or an empty time range', async () => {
    const bad = expectProblem(await t.app.inject({ url: '/api/v1/executions?created_after=yesterday' }), 400, 'REQUEST_INVALID')
    expect(bad.errors).toEqual([expect.objectContaining({ path: '/created_after', message: expect.stringContaining('ISO 8601') })])
    const empty = expectProblem(await t.app.inject({ url: '/api/v1/executions?created_after=2026-01-02T00:00:00Z&created_before=2026-01-01T00:00:00Z' }), 400, 'REQUEST_INVALID')
    expect(empty.errors).toEqual([expect.objectContaining({ path: '/created_before', message: expect.stringContaining('later than created_after') })])
    expectProblem(await t.app.inject({ url: '/api/v1/executions?id_prefix=' }), 400, 'REQUEST_INVALID')
  })

  it('answers 400 for a bad filter, limit or cursor', async () => {
    expectProblem(await t.app.inject({ url: '/api/v1/executions?status=done' }), 400, 'REQUEST_INVALID')
    expectProblem(await t.app.inject({ url: '/api/v1/executions?limit=0' }), 400, 'REQUEST_INVALID')
    expectProblem(await t.app.inject({ url: '/api/v1/executions?cursor=not-a-cursor' }), 400, 'INPUT_INVALID')
  })
})

describe('GET /api/v1/executions/{id}', () => {
  it('answers the execution representation', async () => {
    const started = (await post('/api/v1/executions', { flow: SEED })).json()
    const res = await t.app.inject({ url: `/api/v1/executions/${started.execution_id}` })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual(started)
  })

  it('answers 404 EXECUTION_NOT_FOUND for an unknown id', async () => {
    expectProblem(await t.app.inject({ url: '/api/v1/executions/nope' }), 404, 'EXECUTION_NOT_FOUND')
  })
})

describe('POST /api/v1/executions/{id}/cancel', () => {
  it('cancels a running execution through its task signal', async () => {
    const started = (await post('/api/v1/executions', { flow: delayFlow(60_000), wait: false })).json()
    const res = await post(`/api/v1/executions/${started.execution_id}/cancel`, { reason: 'no longer needed' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'cancelled' })
  })

  it('answers 409 for an execution that has already finished', async () => {
    const done = (await post('/api/v1/executions', { flow: SEED })).json()
    expectProblem(await post(`/api/v1/executions/${done.execution_id}/cancel`), 409, 'EXECUTION_NOT_CANCELLABLE')
  })

  it('answers 404 for an unknown execution', async () => {
    expectProblem(await post('/api/v1/executions/nope/cancel'), 404, 'EXECUTION_NOT_FOUND')
  })
})

describe('POST /api/v1/executions/{id}/resume', () => {
  it('runs a failed execution again from its failed task with a new input', async () => {
    const failed = (await post('/api/v1/executions', { flow: SEED, input: { fail: ['task2'] } })).json()
    const res = await post(`/api/v1/executions/${failed.execution_id}/resume`, { input: {} })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ execution_id: failed.execution_id, status: 'completed', failed_task: null })
    expect(res.json().executed_tasks).toEqual(['task1', 'task2', 'task2', 'task3'])
  })

  it('answers 409 for an execution that did not fail', async () => {
    const done = (await post('/api/v1/executions', { flow: SEED })).json()
    expectProblem(await post(`/api/v1/executions/${done.execution_id}/resume`), 409, 'EXECUTION_NOT_RESUMABLE')
  })

  it('answers 404 for an unknown execution', async () => {
    expectProblem(await post('/api/v1/executions/nope/resume', {}), 404, 'EXECUTION_NOT_FOUND')
  })
})

describe('GET /api/v1/executions/{id}/events through inject', () => {
  it('streams the history of a finished execution with ids, then closes', async () => {
    const done = (await post('/api/v1/executions', { flow: SEED })).json()
    const res = await t.app.inject({ url: `/api/v1/executions/${done.execution_id}/events` })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/)
    const events = [...res.body.matchAll(/^id: (\d+)\nevent: (\w+)\n/gm)].map((m) => m[2])
    expect(events).toEqual([
      'execution_started',
      'task_started',
      'task_finished',
      'routed',
      'task_started',
      'task_finished',
      'routed',
      'task_started',
      'task_finished',
      'execution_finished',
    ])
  })

  it('skips events up to Last-Event-ID', async () => {
    const done = (await post('/api/v1/executions', { flow: SEED })).json()
    const res = await t.app.inject({ url: `/api/v1/executions/${done.execution_id}/events`, headers: { 'last-event-id': '9' } })
    const ids = [...res.body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
    expect(ids.length).toBeGreaterThan(0)
    expect(ids.every((id) => id > 9)).toBe(true)
  })

  it('answers 404 as a problem for an unknown execution', async () => {
    expectProblem(await t.app.inject({ url: '/api/v1/executions/nope/events' }), 404, 'EXECUTION_NOT_FOUND')
  })

  it('tells how many items a for_each run has when it starts, and each item run its index', async () => {
    const flow = { id: 'items', name: 'Items', start_task: 'each', tasks: [{ name: 'each', type: 'noop', for_each: '[10, 20, 30, 40]', input: { n: '${item}' } }], conditions: [] }
    const done = (await post('/api/v1/executions', { flow })).json()
    expect(done.status).toBe('completed')
    const res = await t.app.inject({ url: `/api/v1/executions/${done.execution_id}/events` })
    const started = [...res.body.matchAll(/^event: task_started\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { seq: number; item_count?: number; item?: number; parent_seq?: number })
    expect(started[0]).toMatchObject({ seq: 1, item_count: 4 })
    expect(started.slice(1).map((e) => [e.parent_seq, e.item, e.item_count])).toEqual([
      [1, 0, undefined],
      [1, 1, undefined],
      [1, 2, undefined],
      [1, 3, undefined],
    ])
  })
})

describe('GET /api/v1/executions/{id}/flow', () => {
  it('answers the exact definition an inline execution ran', async () => {
    const done = (await post('/api/v1/executions', { flow: SEED })).json()
    const res = await t.app.inject({ url: `/api/v1/executions/${done.execution_id}/flow` })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ flow_id: SEED.id, flow_version: null, flow: SEED })
  })

  it('answers 404 as a problem for an unknown execution', async () => {
    expectProblem(await t.app.inject({ url: '/api/v1/executions/nope/flow' }), 404, 'EXECUTION_NOT_FOUND')
  })
})
