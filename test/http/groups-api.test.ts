import { expect, it } from 'vitest'
import { concurrencyOf } from '../fixtures/orchestration-tasks.js'
import { describeOnStores, route, runsOf, type ExecutionBody } from './store-apps.js'

/** Parallel groups through the HTTP API, on SQLite and on PostgreSQL. */

const group = (id: string, fan: Record<string, unknown>, tasks: Record<string, unknown>[], conditions: Record<string, unknown>[] = [], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  name: id,
  start_task: 'fan',
  tasks: [{ name: 'fan', ...fan }, ...tasks],
  conditions,
  ...extra,
})

describeOnStores('parallel groups through the API', (ctx, kind) => {
  const run = async (flow: Record<string, unknown>, input: unknown = {}): Promise<ExecutionBody> => {
    const res = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow, input })
    expect(res.status).toBe(200)
    return res.body
  }

  it('runs every branch, several tasks long, and gives the group the data of each branch\'s last task', async () => {
    const flow = group(
      'fan_all',
      { parallel: ['a1', 'b1'] },
      [
        { name: 'a1', type: 'noop', input: { from: 'a1' } },
        { name: 'a2', type: 'noop', input: { from: 'a2', saw: '${results.a1.data.from}' } },
        { name: 'b1', type: 'noop', input: { from: 'b1' } },
        { name: 'after', type: 'noop', input: { joined: '${results.fan.data}' } },
      ],
      [route('a1', 'a2'), route('fan', 'after')],
    )
    const execution = await run(flow)
    expect(execution.status).toBe('completed')
    const fan = execution.task_results.find((r) => r.task_name === 'fan')
    expect(fan).toMatchObject({ task_type: 'parallel', status: 'success', next_task: 'after', data: { a1: { from: 'a2', saw: 'a1' }, b1: { from: 'b1' } } })
    for (const name of ['a1', 'a2', 'b1']) {
      const r = execution.task_results.find((x) => x.task_name === name)
      expect(r).toMatchObject({ status: 'success', parent_seq: fan?.seq, branch: name === 'b1' ? 'b1' : 'a1' })
    }
    expect(execution.task_results.at(-1)).toMatchObject({ task_name: 'after', parent_seq: null, data: { joined: { a1: { from: 'a2' }, b1: { from: 'b1' } } } })
  })

  it('fails fast with join "all": the other branches are cancelled and the group routes by its own condition', async () => {
    const flow = group(
      'fan_fail_fast',
      { parallel: ['slow', 'broken'] },
      [
        { name: 'slow', type: 'hold' },
        { name: 'broken', type: 'fail', input: { message: 'broken on purpose' } },
        { name: 'cleanup', type: 'noop' },
      ],
      [route('fan', 'end', 'cleanup')],
    )
    const execution = await run(flow)
    expect(execution.status).toBe('completed')
    const byName = Object.fromEntries(execution.task_results.map((r) => [r.task_name, r]))
    expect(byName.broken).toMatchObject({ status: 'failure', error: 'broken on purpose' })
    expect(byName.slow).toMatchObject({ status: 'failure', error_code: 'BRANCH_CANCELLED' })
    expect(byName.fan).toMatchObject({ status: 'failure', error_code: 'BRANCH_FAILED', next_task: 'cleanup' })
    expect(byName.fan?.error).toContain('branch "broken" of group "fan" failed')
    expect(byName.cleanup).toMatchObject({ status: 'success' })
  })

  it('fails the execution at the group when a branch fails and the group has no condition', async () => {
    const execution = await run(group('fan_fails', { parallel: ['ok', 'broken'] }, [{ name: 'ok', type: 'noop' }, { name: 'broken', type: 'fail', input: { message: 'no' } }]))
    expect(execution).toMatchObject({ status: 'failed', failed_task: 'fan', error: { code: 'TASK_FAILED' } })
  })

  it('takes the first success with join "any" and cancels the rest; fails only when every branch failed', async () => {
    const won = await run(group('fan_any', { parallel: ['slow', 'quick'], join: 'any' }, [{ name: 'slow', type: 'hold' }, { name: 'quick', type: 'noop', input: { won: true } }]))
    expect(won.status).toBe('completed')
    const fan = won.task_results.find((r) => r.task_name === 'fan')
    expect(fan).toMatchObject({ status: 'success', data: { quick: { won: true } } })
    expect(won.task_results.find((r) => r.task_name === 'slow')).toMatchObject({ status: 'failure', error_code: 'BRANCH_CANCELLED' })

    const lost = await run(group('fan_any_lost', { parallel: ['x', 'y'], join: 'any' }, [{ name: 'x', type: 'fail', input: { message: 'x failed' } }, { name: 'y', type: 'fail', input: { message: 'y failed' } }]))
    expect(lost).toMatchObject({ status: 'failed', failed_task: 'fan' })
    expect(lost.task_results.find((r) => r.task_name === 'fan')).toMatchObject({ status: 'failure', error_code: 'BRANCH_FAILED' })
    expect(lost.task_results.find((r) => r.task_name === 'fan')?.error).toContain('every branch of group "fan" failed')
  })

  it('runs at most max_concurrency branches at once, and all of them in the end', async () => {
    const key = `fan-${kind}`
    const members = ['p1', 'p2', 'p3', 'p4', 'p5']
    const flow = group('fan_limited', { parallel: members, max_concurrency: 2 }, members.map((name) => ({ name, type: 'probe', input: { key, ms: 30, value: name } })))
    const execution = await run(flow)
    expect(execution.status).toBe('completed')
    expect(concurrencyOf(key)).toBe(2)
    expect(Object.keys(execution.task_results.find((r) => r.task_name === 'fan')?.data as object).sort()).toEqual(members)
  })

  it('runs a group nested in a branch, and loops inside a branch', async () => {
    const flow = group(
      'fan_nested',
      { parallel: ['inner', 'tick'] },
      [
        { name: 'inner', parallel: ['x', 'y'] },
        { name: 'x', type: 'noop', input: { v: 'x' } },
        { name: 'y', type: 'noop', input: { v: 'y' } },
        { name: 'tick', type: 'count' },
      ],
      [{ name: 'loop', source_task: 'tick', when: 'results.tick.data.n < 3', target_task_success: 'tick', target_task_failure: 'end' }],
    )
    const execution = await run(flow)
    expect(execution.status).toBe('completed')
    expect(execution.task_results.filter((r) => r.task_name === 'tick').map((r) => r.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
    const fan = execution.task_results.find((r) => r.task_name === 'fan')
    expect(fan?.data).toEqual({ inner: { x: { v: 'x' }, y: { v: 'y' } }, tick: { n: 3 } })
    const inner = execution.task_results.find((r) => r.task_name === 'inner')
    expect(inner).toMatchObject({ parent_seq: fan?.seq, branch: 'inner' })
    expect(execution.task_results.find((r) => r.task_name === 'x')).toMatchObject({ parent_seq: inner?.seq, branch: 'x' })
  })

  it('runs a group inside a loop, once per turn', async () => {
    const flow = {
      id: 'loop_of_groups',
      name: 'loop',
      start_task: 'tick',
      tasks: [
        { name: 'tick', type: 'count' },
        { name: 'fan', parallel: ['a', 'b'] },
        { name: 'a', type: 'noop' },
        { name: 'b', type: 'noop' },
      ],
      conditions: [
        { name: 'again', source_task: 'tick', when: 'results.tick.data.n <= 3', target_task_success: 'fan', target_task_failure: 'end' },
        route('fan', 'tick'),
      ],
    }
    const execution = await run(flow)
    expect(execution.status).toBe('completed')
    expect(execution.executed_tasks.filter((t) => t === 'fan')).toHaveLength(3)
    expect(execution.executed_tasks.filter((t) => t === 'a')).toHaveLength(3)
    expect(execution.task_results.filter((r) => r.task_name === 'fan').every((r) => r.status === 'success')).toBe(true)
  })

  it('counts every run of every branch toward max_steps', async () => {
    const flow = group('fan_steps', { parallel: ['a', 'b'] }, [{ name: 'a', type: 'noop' }, { name: 'b', type: 'noop' }, { name: 'after', type: 'noop' }], [route('fan', 'after')], { max_steps: 3 })
    const execution = await run(flow)
    expect(execution).toMatchObject({ status: 'failed', error: { code: 'STEP_LIMIT_EXCEEDED' } })
    expect(execution.executed_tasks.sort()).toEqual(['a', 'b', 'fan'])
  })

  it('resumes a failed group by running only the failed branch\'s failed task again', async () => {
    const flow = group(
      'fan_resume',
      { parallel: ['fine', 'first'] },
      [
        { name: 'fine', type: 'mark' },
        { name: 'first', type: 'noop' },
        { name: 'check', type: 'gate', input: { open: '${input.open}' } },
      ],
      [route('first', 'check')],
    )
    const failed = await run(flow, { open: false })
    expect(failed).toMatchObject({ status: 'failed', failed_task: 'fan' })
    const resumed = await ctx().call<ExecutionBody>('POST', `/api/v1/executions/${failed.execution_id}/resume`, { input: { open: true } })
    expect(resumed.status).toBe(200)
    expect(resumed.body.status).toBe('completed')
    const after = resumed.body.task_results.slice(failed.task_results.length)
    expect(after.map((r) => `${r.task_name}:${r.status}`)).toEqual(['fan:success', 'check:success'])
    // The branch that had succeeded keeps its data: its task ran once, with the execution's first input.
    expect(after[0]?.data).toEqual({ fine: { open: false }, first: { opened: true } })
    expect(runsOf(resumed.body).filter((r) => r.startsWith('fine:'))).toEqual(['fine:success:1'])
  })

  it('refuses a condition that routes into a branch from outside, or out of one, with its path', async () => {
    const into = group('into_branch', { parallel: ['a'] }, [{ name: 'a', type: 'noop' }, { name: 'other', type: 'noop' }], [route('fan', 'other'), route('other', 'a')])
    const res = await ctx().call<{ errors: { code: string; path: string }[] }>('POST', '/api/v1/flows', into)
    expect(res.status).toBe(422)
    expect(res.body.errors).toContainEqual(expect.objectContaining({ code: 'ROUTES_INTO_BRANCH', path: '/conditions/1/target_task_success' }))

    const out = group('out_of_branch', { parallel: ['a'] }, [{ name: 'a', type: 'noop' }, { name: 'after', type: 'noop' }], [route('fan', 'after'), route('a', 'after')])
    const refused = await ctx().call<{ errors: { code: string; path: string }[] }>('POST', '/api/v1/executions', { flow: out })
    expect(refused.status).toBe(422)
    expect(refused.body.errors).toContainEqual(expect.objectContaining({ code: 'ROUTES_OUT_OF_BRANCH', path: '/flow/conditions/1/target_task_success' }))
  })
})
