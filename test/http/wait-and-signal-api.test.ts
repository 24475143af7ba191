import { expect, it } from 'vitest'
import { describeOnStores, oneTask, readUntil, route, type ExecutionBody, type StoreApp } from './store-apps.js'

/** Durable timers, signals and planned retries through the HTTP API, on SQLite and on PostgreSQL. */

interface Problem {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly errors?: { code: string; path: string; message: string }[]
}

const start = async (ctx: StoreApp, flow: Record<string, unknown>, input: unknown = {}): Promise<string> => {
  const res = await ctx.call<ExecutionBody>('POST', '/api/v1/executions', { flow, input, wait: false })
  expect(res.status).toBe(202)
  return res.body.execution_id
}
const ended = (e: ExecutionBody): boolean => e.status !== 'running' && e.status !== 'pending'
const signalWaits = (flow: string, names: string[]): Record<string, unknown> => ({
  id: flow,
  name: flow,
  start_task: names[0],
  tasks: names.map((name) => ({ name, type: 'wait_for_signal', input: { signal: 'go' } })),
  conditions: names.slice(0, -1).map((name, i) => route(name, names[i + 1] as string)),
})

describeOnStores('timers and signals through the API', (ctx) => {
  it('parks an execution on a timer, shows what it waits for, holds no slot, and goes on at its time', async () => {
    const id = await start(ctx(), oneTask('wait_ms', { type: 'wait', input: { ms: 300 } }))
    const parked = await readUntil(ctx(), id, (e) => e.task_results[0]?.status === 'waiting', 'the wait parked')
    const run = parked.task_results[0]
    expect(run?.waiting_for).toEqual({ timer: expect.any(String) })
    expect(Date.parse(String(run?.waiting_for?.timer)) - Date.parse(run?.started_at ?? '')).toBe(300)
    expect(parked.current_task).toBe('t')
    // Parked in the store: no actor, promise or slot is held for it in this process.
    expect(ctx().engine.running).toBe(0)
    const done = await readUntil(ctx(), id, ended, 'the timer fired')
    expect(done.status).toBe('completed')
    expect(done.task_results[0]).toMatchObject({ status: 'success', waiting_for: null })
    // Taken up again when due: a wake, not a recovery from a crash.
    const resumed = (await ctx().store.listEvents(id, 0, 100)).filter((e) => e.type === 'execution_resumed')
    expect(resumed.map((e) => (e.data as { reason: string }).reason)).toEqual(['woken'])
  })

  it('waits until an ISO time, and goes on at once when that time has passed', async () => {
    const until = new Date(Date.now() + 60_000).toISOString()
    const id = await start(ctx(), oneTask('wait_until', { type: 'wait', input: { until: '${input.until}' } }), { until })
    const parked = await readUntil(ctx(), id, (e) => e.task_results[0]?.status === 'waiting', 'the wait parked')
    expect(parked.task_results[0]?.waiting_for).toEqual({ timer: until })
    await ctx().call('POST', `/api/v1/executions/${id}/cancel`)

    const past = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: oneTask('wait_past', { type: 'wait', input: { until: '2001-01-01T00:00:00+02:00' } }) })
    expect(past.status).toBe(200)
    expect(past.body).toMatchObject({ status: 'completed', task_results: [{ status: 'success' }] })
  })

  it('refuses a wait that cannot be understood at validation, with its path', async () => {
    for (const input of [{ until: 'next tuesday' }, { until: '2030-01-01T00:00:00' }, { ms: -5 }, { ms: 5, until: '2030-01-01T00:00:00Z' }, {}]) {
      const res = await ctx().call<Problem>('POST', '/api/v1/executions', { flow: oneTask('wait_bad', { type: 'wait', input }) })
      expect(res.status, JSON.stringify(input)).toBe(422)
      expect(res.body.errors?.[0]).toMatchObject({ code: 'TASK_INPUT_INVALID', path: expect.stringMatching(/^\/flow\/tasks\/0\/input/) })
    }
    // Written through a mapping, it can only be checked when the task runs: the task fails clearly.
    const mapped = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: oneTask('wait_mapped', { type: 'wait', input: { until: '${input.when}' } }), input: { when: 'soon' } })
    expect(mapped.body).toMatchObject({ status: 'failed', task_results: [{ status: 'failure', error_code: 'INPUT_INVALID' }] })
    expect(mapped.body.task_results[0]?.error).toContain('/until')
  })

  it('makes a signal\'s payload the data of the task that waits for it', async () => {
    const id = await start(ctx(), oneTask('approval', { type: 'wait_for_signal', input: { signal: 'approve', timeout_ms: 600_000 } }))
    const parked = await readUntil(ctx(), id, (e) => e.task_results[0]?.status === 'waiting', 'the wait parked')
    expect(parked.task_results[0]?.waiting_for).toEqual({ signal: 'approve', timeout_at: expect.any(String) })
    const sent = await ctx().call('POST', `/api/v1/executions/${id}/signals/approve`, { by: 'ana', ok: true })
    expect(sent).toMatchObject({ status: 202, body: { execution_id: id, signal: 'approve', accepted: true } })
    const done = await readUntil(ctx(), id, ended, 'the signal was taken')
    expect(done).toMatchObject({ status: 'completed', task_results: [{ status: 'success', data: { by: 'ana', ok: true }, waiting_for: null }] })
  })

  it('keeps signals sent before the wait began and hands them out in order, one per wait', async () => {
    // The first task holds the execution until its signals are all sent; then two waits take them.
    const flow = signalWaits('early_signals', ['w1', 'w2'])
    const gated = { ...flow, start_task: 'first', tasks: [{ name: 'first', type: 'wait', input: { ms: 400 } }, ...(flow.tasks as object[])], conditions: [route('first', 'w1'), ...(flow.conditions as object[])] }
    const id = await start(ctx(), gated)
    for (const n of [1, 2, 3]) expect((await ctx().call('POST', `/api/v1/executions/${id}/signals/go`, { n })).status).toBe(202)
    const done = await readUntil(ctx(), id, ended, 'both waits took a signal')
    expect(done.status).toBe('completed')
    expect(done.task_results.map((r) => r.data)).toEqual([null, { n: 1 }, { n: 2 }])
  })

  it('keeps a signal sent while another task runs, for the wait that comes next', async () => {
    const flow = { id: 'signal_while_running', name: 's', start_task: 'busy', tasks: [{ name: 'busy', type: 'probe', input: { ms: 300 } }, { name: 'w', type: 'wait_for_signal', input: { signal: 'go' } }], conditions: [route('busy', 'w')] }
    const id = await start(ctx(), flow)
    expect((await ctx().call('POST', `/api/v1/executions/${id}/signals/go`, { early: true })).status).toBe(202)
    const done = await readUntil(ctx(), id, ended, 'the wait took the early signal')
    expect(done).toMatchObject({ status: 'completed' })
    expect(done.task_results.at(-1)?.data).toEqual({ early: true })
  })

  it('delivers signals to waits in parallel branches while other branches run', async () => {
    const flow = {
      id: 'signal_branches',
      name: 's',
      start_task: 'fan',
      tasks: [
        { name: 'fan', parallel: ['approve', 'review', 'busy'] },
        { name: 'approve', type: 'wait_for_signal', input: { signal: 'approve' } },
        { name: 'review', type: 'wait_for_signal', input: { signal: 'review' } },
        { name: 'busy', type: 'probe', input: { ms: 400 } },
      ],
      conditions: [],
    }
    const id = await start(ctx(), flow)
    await readUntil(ctx(), id, (e) => e.task_results.filter((r) => r.status === 'waiting').length === 2, 'both waits parked')
    await ctx().call('POST', `/api/v1/executions/${id}/signals/review`, { r: 1 })
    await ctx().call('POST', `/api/v1/executions/${id}/signals/approve`, { a: 1 })
    const done = await readUntil(ctx(), id, ended, 'the group joined')
    expect(done.status).toBe('completed')
    expect(done.task_results.find((r) => r.task_name === 'fan')?.data).toMatchObject({ approve: { a: 1 }, review: { r: 1 } })
  })

  it('fails a wait with SIGNAL_TIMEOUT when no signal comes in time, and routes on failure', async () => {
    const flow = { ...oneTask('signal_timeout', { type: 'wait_for_signal', input: { signal: 'never', timeout_ms: 100 } }), tasks: [{ name: 't', type: 'wait_for_signal', input: { signal: 'never', timeout_ms: 100 } }, { name: 'escalate', type: 'noop' }], conditions: [route('t', 'end', 'escalate')] }
    const res = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow })
    expect(res.body.status).toBe('completed')
    expect(res.body.task_results[0]).toMatchObject({ status: 'failure', error_code: 'SIGNAL_TIMEOUT' })
    expect(res.body.task_results[1]).toMatchObject({ task_name: 'escalate', status: 'success' })
  })

  it('answers 404 for an unknown execution, 409 for a finished one, 400 for a name that is not a path segment', async () => {
    const unknown = await ctx().call<Problem>('POST', '/api/v1/executions/no-such-execution/signals/go', {})
    expect(unknown).toMatchObject({ status: 404, body: { code: 'EXECUTION_NOT_FOUND' } })
    const finished = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: oneTask('done_already', { type: 'noop' }) })
    const late = await ctx().call<Problem>('POST', `/api/v1/executions/${finished.body.execution_id}/signals/go`, {})
    expect(late).toMatchObject({ status: 409, body: { code: 'EXECUTION_FINISHED' } })
    const id = await start(ctx(), oneTask('bad_names', { type: 'wait_for_signal', input: { signal: 'go' } }))
    for (const name of ['a%20b', 'caf%C3%A9', 'a%2Fb', `${'x'.repeat(201)}`]) {
      const res = await ctx().call<Problem>('POST', `/api/v1/executions/${id}/signals/${name}`, {})
      expect(res.status, name).toBe(400)
      expect(res.body.code).toBe('INPUT_INVALID')
      expect(res.body.detail).toContain('a signal name is 1 to 200 letters, digits')
    }
    const huge = await ctx().call<Problem>('POST', `/api/v1/executions/${id}/signals/go`, { text: 'x'.repeat(1_100_000) })
    expect(huge.status).toBe(413)
    await ctx().call('POST', `/api/v1/executions/${id}/cancel`)
  })

  // ".." could never arrive: clients and servers resolve it away before the route sees it.
  it('refuses a wait_for_signal whose signal name is not a path segment, at validation', async () => {
    for (const signal of ['two words', '..', 'x'.repeat(201)]) {
      const res = await ctx().call<Problem>('POST', '/api/v1/flows/validate', { flow: oneTask('bad_signal', { type: 'wait_for_signal', input: { signal } }) })
      expect(res.body.errors).toContainEqual(expect.objectContaining({ code: 'TASK_INPUT_INVALID', path: '/flow/tasks/0/input/signal' }))
    }
  })

  it('cancels an execution that waits for a signal', async () => {
    const id = await start(ctx(), oneTask('cancel_wait', { type: 'wait_for_signal', input: { signal: 'go' } }))
    await readUntil(ctx(), id, (e) => e.task_results[0]?.status === 'waiting', 'the wait parked')
    const cancelled = await ctx().call<ExecutionBody>('POST', `/api/v1/executions/${id}/cancel`)
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled', task_results: [{ status: 'failure', error_code: 'EXECUTION_CANCELLED' }] } })
  })

  it('shows retry_at on a failed attempt while its retry is planned', async () => {
    const id = await start(ctx(), oneTask('retry_visible', { type: 'flaky', input: { succeed_on: 2 }, retry: { max_attempts: 2, backoff_ms: 500 } }))
    const waiting = await readUntil(ctx(), id, (e) => e.task_results[0]?.status === 'failure', 'the first attempt failed')
    const first = waiting.task_results[0]
    expect(first?.retry_at).not.toBeNull()
    expect(Date.parse(first?.retry_at ?? '') - Date.parse(first?.finished_at ?? '')).toBe(500)
    const done = await readUntil(ctx(), id, ended, 'the retry ran')
    expect(done.task_results.map((r) => `${r.status}:${r.attempt}`)).toEqual(['failure:1', 'success:2'])
  })
})
