import { expect, it } from 'vitest'
import { concurrencyOf } from '../fixtures/orchestration-tasks.js'
import { describeOnStores, oneTask, route, type ExecutionBody, type RunView } from './store-apps.js'

/** for_each through the HTTP API, on SQLite and on PostgreSQL. */

describeOnStores('for_each through the API', (ctx, kind) => {
  const run = async (flow: Record<string, unknown>, input: unknown = {}): Promise<ExecutionBody> => {
    const res = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow, input })
    expect(res.status).toBe(200)
    return res.body
  }
  const own = (execution: ExecutionBody): RunView | undefined => execution.task_results.find((r) => r.item_index === null && r.task_name === 't')

  it('runs the type once per item, at most max_concurrency at once, with the data in item order', async () => {
    const key = `items-${kind}`
    // Later items finish first: the data is still in item order.
    const flow = oneTask('each', { type: 'probe', for_each: 'input.orders', max_concurrency: 2, input: { key, ms: '${40 - index * 10}', value: '${item.id}' } })
    const execution = await run(flow, { orders: [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }] })
    expect(execution.status).toBe('completed')
    expect(own(execution)?.data).toEqual(['a', 'b', 'c', 'd'].map((value) => ({ key, value })))
    const items = execution.task_results.filter((r) => r.item_index !== null)
    expect(items.map((r) => r.item_index).sort()).toEqual([0, 1, 2, 3])
    expect(items.every((r) => r.parent_seq === own(execution)?.seq && r.status === 'success')).toBe(true)
    expect(concurrencyOf(key)).toBe(2)
  })

  it('succeeds with an empty list, running nothing', async () => {
    const execution = await run(oneTask('each_empty', { type: 'fail', for_each: 'input.list' }), { list: [] })
    expect(execution.status).toBe('completed')
    expect(execution.task_results).toHaveLength(1)
    expect(own(execution)?.data).toEqual([])
  })

  it('retries each item on its own with the task\'s retry, and shows when the next attempt is due', async () => {
    const flow = oneTask('each_retry', { type: 'flaky', for_each: 'input.list', input: { item: '${item}', succeed_on: 2 }, retry: { max_attempts: 2, backoff_ms: 10 } })
    const execution = await run(flow, { list: ['x', 'y', 'z'] })
    expect(execution.status).toBe('completed')
    expect(own(execution)?.data).toEqual([
      { attempt: 2, item: 'x' },
      { attempt: 2, item: 'y' },
      { attempt: 2, item: 'z' },
    ])
    for (const index of [0, 1, 2]) {
      const runs = execution.task_results.filter((r) => r.item_index === index)
      expect(runs.map((r) => `${r.status}:${r.attempt}`)).toEqual(['failure:1', 'success:2'])
      expect(Date.parse(runs[0]?.retry_at ?? '')).toBeGreaterThanOrEqual(Date.parse(runs[0]?.finished_at ?? ''))
      expect(runs[1]?.retry_at).toBeNull()
    }
  })

  it('fails the task with ITEM_FAILED when an item fails for good, and routes by its condition', async () => {
    const flow = {
      id: 'each_fail',
      name: 'each_fail',
      start_task: 't',
      tasks: [
        { name: 't', type: 'gate', for_each: 'input.list', max_concurrency: 3, input: { open: '${item}' } },
        { name: 'handled', type: 'noop' },
      ],
      conditions: [route('t', 'end', 'handled')],
    }
    const execution = await run(flow, { list: [true, false, true, true] })
    expect(execution.status).toBe('completed')
    expect(own(execution)).toMatchObject({ status: 'failure', error_code: 'ITEM_FAILED', next_task: 'handled' })
    expect(own(execution)?.error).toContain('item 1 of task "t" failed: the gate is closed')
    expect(execution.task_results.at(-1)).toMatchObject({ task_name: 'handled', status: 'success' })
  })

  it('cancels the item runs still in flight when one item fails for good', async () => {
    const flow = {
      id: 'each_cancel',
      name: 'each_cancel',
      start_task: 't',
      tasks: [{ name: 't', type: 'hold', for_each: 'input.list', max_concurrency: 3 }],
      conditions: [],
    }
    // hold's first attempts never end; a timeout fails the first item for good, and the others are cancelled.
    const execution = await run({ ...flow, tasks: [{ ...flow.tasks[0], timeout_ms: 50 }] }, { list: [1, 2, 3, 4] })
    expect(execution).toMatchObject({ status: 'failed', failed_task: 't' })
    const items = execution.task_results.filter((r) => r.item_index !== null)
    expect(items.filter((r) => r.error_code === 'TASK_TIMEOUT').length).toBeGreaterThanOrEqual(1)
    expect(items.every((r) => r.status === 'failure' && (r.error_code === 'TASK_TIMEOUT' || r.error_code === 'ITEM_CANCELLED'))).toBe(true)
    // The fourth item never started: at most three ran at once, and the task failed before it.
    expect(items.map((r) => r.item_index)).not.toContain(3)
  })

  it('works over 10,000 items, every item run recorded and readable page by page', async () => {
    const list = Array.from({ length: 10_000 }, (_, i) => i)
    const execution = await run(oneTask('each_10k', { type: 'noop', for_each: 'input.list', max_concurrency: 100, input: { n: '${item}' } }), { list })
    expect(execution.status).toBe('completed')
    expect(execution.task_run_count).toBe(10_001)
    const whole = await ctx().call<RunView>('GET', `/api/v1/executions/${execution.execution_id}/task-runs/1`)
    expect(whole.status).toBe(200)
    const data = whole.body.data as { n: number }[]
    expect(data).toHaveLength(10_000)
    expect(data.every((d, i) => d.n === i)).toBe(true)
  })

  it('fails the task with FOR_EACH_TOO_LARGE over 10,000 items, before any item runs', async () => {
    const execution = await run(oneTask('each_huge', { type: 'noop', for_each: 'input.list' }), { list: Array.from({ length: 10_001 }, (_, i) => i) })
    expect(execution).toMatchObject({ status: 'failed', failed_task: 't' })
    expect(execution.task_results).toHaveLength(1)
    expect(own(execution)).toMatchObject({ status: 'failure', error_code: 'FOR_EACH_TOO_LARGE' })
    expect(own(execution)?.error).toContain('the list has 10001 items; at most 10000 are allowed')
  })

  it('fails the task with FOR_EACH_INVALID when the expression gives no list or cannot be evaluated', async () => {
    const flow = oneTask('each_not_list', { type: 'noop', for_each: 'input.list' })
    const notList = await run(flow, { list: { a: 1 } })
    expect(own(notList)).toMatchObject({ status: 'failure', error_code: 'FOR_EACH_INVALID' })
    expect(own(notList)?.error).toContain('input.list gave')
    expect(own(notList)?.error).toContain('not a list')
    const missing = await run(flow, {})
    expect(own(missing)).toMatchObject({ status: 'failure', error_code: 'FOR_EACH_INVALID' })
  })

  it('refuses a for_each expression that does not parse, and for_each on a group, at validation', async () => {
    const bad = await ctx().call<{ errors: { code: string; path: string }[] }>('POST', '/api/v1/flows/validate', { flow: oneTask('each_bad', { type: 'noop', for_each: 'input.list[' }) })
    expect(bad.body.errors).toContainEqual(expect.objectContaining({ path: '/flow/tasks/0/for_each' }))
    const onGroup = await ctx().call<{ errors: { code: string; path: string }[] }>('POST', '/api/v1/flows/validate', {
      flow: { ...oneTask('each_group', { parallel: ['a'], for_each: 'input.list' }), tasks: [{ name: 't', parallel: ['a'], for_each: 'input.list' }, { name: 'a', type: 'noop' }] },
    })
    expect(onGroup.body.errors).toContainEqual(expect.objectContaining({ code: 'CONFLICTING_FIELDS', path: '/flow/tasks/0/for_each' }))
  })
})
