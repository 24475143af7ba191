import { expect, it } from 'vitest'
import { describeOnStores, oneTask, readUntil, route, type ExecutionBody, type StoreApp } from './store-apps.js'

/** Sub-flows through the HTTP API, on SQLite and on PostgreSQL. */

interface Problem {
  readonly code: string
  readonly detail: string
  readonly errors: { code: string; path: string; message: string }[]
}

const register = async (ctx: StoreApp, flow: Record<string, unknown>): Promise<void> => {
  const res = await ctx.call('POST', '/api/v1/flows', flow)
  expect(res.status, JSON.stringify(res.body)).toBe(201)
}
const calls = (id: string, input: Record<string, unknown>): Record<string, unknown> => oneTask(id, { type: 'subflow', input })
const ended = (e: ExecutionBody): boolean => e.status !== 'running' && e.status !== 'pending'

describeOnStores('sub-flows through the API', (ctx, kind) => {
  it('runs a registered flow as a child linked both ways, and takes its end as the task\'s result', async () => {
    await register(ctx(), {
      id: `billing_${kind}`,
      name: 'billing',
      start_task: 'charge',
      tasks: [
        { name: 'charge', type: 'noop', input: { amount: '${input.amount}' } },
        { name: 'receipt', type: 'noop', input: { sent: true } },
      ],
      conditions: [route('charge', 'receipt')],
    })
    const res = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: calls('order', { flow_id: `billing_${kind}`, input: { amount: '${input.total}' } }), input: { total: 42 } })
    expect(res.body.status).toBe('completed')
    const run = res.body.task_results[0]
    const childId = (run?.data as { execution_id: string }).execution_id
    expect(run).toMatchObject({
      task_type: 'subflow',
      status: 'success',
      data: { execution_id: childId, status: 'completed', results: { charge: { amount: 42 }, receipt: { sent: true } } },
    })
    const child = await ctx().call<ExecutionBody>('GET', `/api/v1/executions/${childId}`)
    expect(child.body).toMatchObject({ status: 'completed', flow_id: `billing_${kind}`, parent_execution_id: res.body.execution_id, parent_task: 't', input: { amount: 42 } })
    const listed = await ctx().call<{ items: { execution_id: string }[] }>('GET', `/api/v1/executions?parent_execution_id=${res.body.execution_id}`)
    expect(listed.body.items.map((e) => e.execution_id)).toEqual([childId])
  })

  it('shows the child the parent waits for, while it runs', async () => {
    await register(ctx(), oneTask(`approval_${kind}`, { type: 'wait_for_signal', input: { signal: 'approve' } }))
    const started = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: calls('needs_approval', { flow_id: `approval_${kind}` }), wait: false })
    const parent = await readUntil(ctx(), started.body.execution_id, (e) => e.task_results[0]?.status === 'waiting', 'the sub-flow task parked')
    const childId = parent.task_results[0]?.waiting_for?.child as string
    expect(childId).toEqual(expect.any(String))
    await readUntil(ctx(), childId, (e) => e.task_results[0]?.status === 'waiting', 'the child parked')
    await ctx().call('POST', `/api/v1/executions/${childId}/signals/approve`, { ok: true })
    const done = await readUntil(ctx(), parent.execution_id, ended, 'the parent took the child\'s end')
    expect(done.task_results[0]).toMatchObject({ status: 'success', waiting_for: null, data: { execution_id: childId, results: { t: { ok: true } } } })
  })

  it('fails the task with SUBFLOW_FAILED when the child fails, naming the child', async () => {
    await register(ctx(), oneTask(`broken_${kind}`, { type: 'fail', input: { message: 'card declined' } }))
    const res = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: calls('calls_broken', { flow_id: `broken_${kind}` }) })
    expect(res.body).toMatchObject({ status: 'failed', failed_task: 't', task_results: [{ status: 'failure', error_code: 'SUBFLOW_FAILED' }] })
    expect(res.body.task_results[0]?.error).toMatch(/sub-flow execution \S+ \(flow "broken_\w+"\) failed: .*card declined/)
  })

  it('cancels the child when the parent is cancelled', async () => {
    await register(ctx(), oneTask(`forever_${kind}`, { type: 'wait_for_signal', input: { signal: 'never' } }))
    const started = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: calls('cancel_parent', { flow_id: `forever_${kind}` }), wait: false })
    const parent = await readUntil(ctx(), started.body.execution_id, (e) => e.task_results[0]?.status === 'waiting', 'the sub-flow task parked')
    const childId = parent.task_results[0]?.waiting_for?.child as string
    await readUntil(ctx(), childId, (e) => e.status === 'running', 'the child started')
    const cancelled = await ctx().call<ExecutionBody>('POST', `/api/v1/executions/${parent.execution_id}/cancel`)
    expect(cancelled.body.status).toBe('cancelled')
    const child = await readUntil(ctx(), childId, ended, 'the child was cancelled')
    expect(child).toMatchObject({ status: 'cancelled', error: { code: 'EXECUTION_CANCELLED' } })
  })

  it('cancels the children of a cancelled child too, down the chain', async () => {
    await register(ctx(), oneTask(`leaf_${kind}`, { type: 'wait_for_signal', input: { signal: 'never' } }))
    await register(ctx(), calls(`middle_${kind}`, { flow_id: `leaf_${kind}` }))
    const started = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: calls('top', { flow_id: `middle_${kind}` }), wait: false })
    const top = await readUntil(ctx(), started.body.execution_id, (e) => e.task_results[0]?.status === 'waiting', 'the top parked')
    const middle = await readUntil(ctx(), top.task_results[0]?.waiting_for?.child as string, (e) => typeof e.task_results[0]?.waiting_for?.child === 'string', 'the middle parked')
    const leafId = middle.task_results[0]?.waiting_for?.child as string
    await readUntil(ctx(), leafId, (e) => e.task_results[0]?.status === 'waiting', 'the leaf parked')
    expect((await ctx().call<ExecutionBody>('POST', `/api/v1/executions/${top.execution_id}/cancel`)).body.status).toBe('cancelled')
    expect((await readUntil(ctx(), middle.execution_id, ended, 'the middle was cancelled')).status).toBe('cancelled')
    expect((await readUntil(ctx(), leafId, ended, 'the leaf was cancelled')).status).toBe('cancelled')
  })

  it('takes a child\'s end while other branches of the parent still run', async () => {
    await register(ctx(), oneTask(`quick_${kind}`, { type: 'noop', input: { quick: true } }))
    const flow = {
      id: 'branches_and_child',
      name: 'b',
      start_task: 'fan',
      tasks: [
        { name: 'fan', parallel: ['child', 'busy'] },
        { name: 'child', type: 'subflow', input: { flow_id: `quick_${kind}` } },
        { name: 'busy', type: 'probe', input: { ms: 300 } },
      ],
      conditions: [],
    }
    const res = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow })
    expect(res.body.status).toBe('completed')
    expect(res.body.task_results.find((r) => r.task_name === 'child')).toMatchObject({ status: 'success', data: { results: { t: { quick: true } } } })
  })

  it('runs the version a task names, and the latest when it names none', async () => {
    await register(ctx(), oneTask(`versioned_${kind}`, { type: 'noop', input: { v: 1 } }))
    await register(ctx(), oneTask(`versioned_${kind}`, { type: 'noop', input: { v: 2 } }))
    const pinned = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: calls('pinned', { flow_id: `versioned_${kind}`, version: 1 }) })
    expect(pinned.body.task_results[0]?.data).toMatchObject({ results: { t: { v: 1 } } })
    const latest = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: calls('latest', { flow_id: `versioned_${kind}` }) })
    expect(latest.body.task_results[0]?.data).toMatchObject({ results: { t: { v: 2 } } })
  })

  it('refuses an unknown sub-flow and a cycle of sub-flows at registration when the flow ids are constant', async () => {
    const unknown = await ctx().call<Problem>('POST', '/api/v1/flows', calls(`caller_${kind}`, { flow_id: 'no_such_flow' }))
    expect(unknown.status).toBe(422)
    expect(unknown.body.errors).toEqual([expect.objectContaining({ code: 'UNKNOWN_SUBFLOW', path: '/tasks/0/input/flow_id' })])
    const inline = await ctx().call<Problem>('POST', '/api/v1/executions', { flow: calls('inline_caller', { flow_id: 'no_such_flow' }) })
    expect(inline.status).toBe(422)
    expect(inline.body.errors).toEqual([expect.objectContaining({ code: 'UNKNOWN_SUBFLOW', path: '/flow/tasks/0/input/flow_id' })])

    const self = await ctx().call<Problem>('POST', '/api/v1/flows', { flow: calls(`self_${kind}`, { flow_id: `self_${kind}` }) })
    expect(self.status).toBe(422)
    expect(self.body.errors).toEqual([expect.objectContaining({ code: 'SUBFLOW_CYCLE', path: '/flow/tasks/0/input/flow_id' })])

    // a (v1) runs nothing; b runs a; a (v2) running b would close the cycle a → b → a.
    await register(ctx(), oneTask(`cycle_a_${kind}`, { type: 'noop' }))
    await register(ctx(), calls(`cycle_b_${kind}`, { flow_id: `cycle_a_${kind}` }))
    const cycle = await ctx().call<Problem>('POST', '/api/v1/flows', calls(`cycle_a_${kind}`, { flow_id: `cycle_b_${kind}` }))
    expect(cycle.status).toBe(422)
    expect(cycle.body.errors).toEqual([expect.objectContaining({ code: 'SUBFLOW_CYCLE', path: '/tasks/0/input/flow_id' })])
    expect(cycle.body.errors[0]?.message).toContain(`cycle_b_${kind}`)
  })

  it('fails the task at run time for an unknown flow named by a mapping', async () => {
    const res = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: calls('dynamic_unknown', { flow_id: '${input.which}' }), input: { which: 'nothing_by_that_name' } })
    expect(res.body).toMatchObject({ status: 'failed', task_results: [{ status: 'failure', error_code: 'FLOW_NOT_FOUND' }] })
    expect(res.body.task_results[0]?.error).toContain('nothing_by_that_name')
  })

  it('fails with SUBFLOW_TOO_DEEP when sub-flows named by a mapping nest deeper than 10 levels', async () => {
    await register(ctx(), calls(`recursive_${kind}`, { flow_id: '${input.f}', input: { f: '${input.f}' } }))
    const res = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow_id: `recursive_${kind}`, input: { f: `recursive_${kind}` } })
    expect(res.body).toMatchObject({ status: 'failed', task_results: [{ error_code: 'SUBFLOW_FAILED' }] })
    // Follow the chain of children down to the one that could not start another.
    let id = res.body.execution_id
    let depth = 0
    for (;;) {
      const e = (await ctx().call<ExecutionBody>('GET', `/api/v1/executions/${id}`)).body
      const run = e.task_results[0]
      if (run?.error_code === 'SUBFLOW_TOO_DEEP') break
      id = (await ctx().call<{ items: { execution_id: string }[] }>('GET', `/api/v1/executions?parent_execution_id=${id}`)).body.items[0]?.execution_id as string
      depth += 1
    }
    expect(depth).toBe(10)
  })

  it('refuses a sub-flow input that is not one at validation, and fails it at run time when mapped', async () => {
    const res = await ctx().call<Problem>('POST', '/api/v1/flows/validate', { flow: calls('bad_input', { flowid: 'x' }) })
    expect(res.body.errors).toEqual([
      expect.objectContaining({ code: 'TASK_INPUT_INVALID', path: '/flow/tasks/0/input/flow_id' }),
      expect.objectContaining({ code: 'TASK_INPUT_INVALID', path: '/flow/tasks/0/input/flowid' }),
    ])
    const mapped = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: calls('mapped_bad', { flow_id: '${input.n}' }), input: { n: 5 } })
    expect(mapped.body).toMatchObject({ status: 'failed', task_results: [{ status: 'failure', error_code: 'INPUT_INVALID' }] })
  })
})
