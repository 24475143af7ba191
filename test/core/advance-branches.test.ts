import { describe, expect, it } from 'vitest'
import { advance, INITIAL_STATE, type Decision, type ExecutionState } from '../../src/core/advance.js'
import type { Command, FinishRun, StartRun } from '../../src/core/commands.js'
import { parseFlow } from '../../src/core/parse-flow.js'
import { drive, failing, failure, planOf, success } from '../fixtures/drive.js'

const scope = { input: {}, results: {} }
const to = (source: string, onSuccess: string, onFailure = 'end'): Record<string, string> => ({
  name: `after_${source}`, source_task: source, outcome: 'success', target_task_success: onSuccess, target_task_failure: onFailure,
})
const flow = (start: string, tasks: Record<string, unknown>[], conditions: Record<string, string>[], extra: Record<string, unknown> = {}): unknown => ({
  id: 'g', name: 'G', start_task: start, tasks, conditions, ...extra,
})
const starts = (commands: readonly Command[]): StartRun[] => commands.filter((c): c is StartRun => c.type === 'start_run')
const finishes = (commands: readonly Command[]): FinishRun[] => commands.filter((c): c is FinishRun => c.type === 'finish_run')
const seqOf = (commands: readonly Command[], task: string): number => starts(commands).filter((s) => s.task.name === task).at(-1)!.seq
const finishOf = (commands: readonly Command[], task: string): FinishRun | undefined => finishes(commands).filter((f) => f.task === task).at(-1)

const twoBranches = (join: 'all' | 'any', extra: Record<string, unknown> = {}): unknown =>
  flow('fan', [{ name: 'fan', parallel: ['a', 'b'], join, ...extra }, { name: 'a' }, { name: 'a2' }, { name: 'b' }, { name: 'after' }, { name: 'handle' }], [to('a', 'a2'), to('fan', 'after', 'handle')])

describe('parallel groups', () => {
  it('runs every branch, several tasks long, then joins and routes by the group\'s own condition', () => {
    const plan = planOf(twoBranches('all'))
    const { ran, state, commands } = drive(plan, (task) => ({ status: 'success', data: { from: task } }))
    expect(ran).toEqual(['fan', 'a', 'b', 'a2', 'after'])
    expect(state).toMatchObject({ status: 'completed', steps: 5 })
    const group = finishOf(commands, 'fan')!
    expect(group).toMatchObject({ status: 'success', nextTask: 'after' })
    expect(group.data).toMatchObject({ from: 'value', value: { a: { from: 'a2' }, b: { from: 'b' } } })
    const fanSeq = seqOf(commands, 'fan')
    expect(starts(commands).filter((s) => s.parentSeq === fanSeq).map((s) => s.task.name)).toEqual(['a', 'b', 'a2'])
  })

  it('join "all" fails fast: the first failing branch cancels the others and the group fails', () => {
    const plan = planOf(twoBranches('all'))
    const d0 = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope })
    const d = advance(plan, d0.state, { type: 'run_finished', at: 1, seq: seqOf(d0.commands, 'b'), result: failure('b broke'), scope })
    expect(d.commands).toContainEqual({ type: 'abort_run', seq: seqOf(d0.commands, 'a'), code: 'BRANCH_CANCELLED', message: 'cancelled because branch "b" of group "fan" failed' })
    expect(finishOf(d.commands, 'a')).toMatchObject({ status: 'failure', error: { code: 'BRANCH_CANCELLED' } })
    expect(finishOf(d.commands, 'fan')).toMatchObject({ status: 'failure', error: { code: 'BRANCH_FAILED', message: 'branch "b" of group "fan" failed at task "b": b broke' }, nextTask: 'handle' })
    expect(starts(d.commands).map((s) => s.task.name)).toEqual(['handle'])
  })

  it('join "any" takes the first branch to succeed and cancels the others', () => {
    const plan = planOf(twoBranches('any'))
    const d0 = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope })
    const d = advance(plan, d0.state, { type: 'run_finished', at: 1, seq: seqOf(d0.commands, 'b'), result: { status: 'success', data: 7 }, scope: { input: {}, results: { b: { status: 'success', data: 7, error: null } } } })
    expect(finishOf(d.commands, 'a')).toMatchObject({ error: { code: 'BRANCH_CANCELLED', message: 'cancelled because branch "b" of group "fan" succeeded first' } })
    expect(finishOf(d.commands, 'fan')).toMatchObject({ status: 'success', nextTask: 'after', data: { value: { b: 7 } } })
  })

  it('join "any" fails when every branch failed', () => {
    const plan = planOf(twoBranches('any'))
    const { state, commands } = drive(plan, failing('a', 'b'))
    expect(finishOf(commands, 'fan')).toMatchObject({ status: 'failure', error: { code: 'BRANCH_FAILED' }, nextTask: 'handle' })
    expect(finishOf(commands, 'fan')?.error?.message).toContain('every branch of group "fan" failed')
    expect(state.status).toBe('completed')
  })

  it('runs at most max_concurrency branches at once', () => {
    const plan = planOf(flow('fan', [{ name: 'fan', parallel: ['a', 'b', 'c'], max_concurrency: 1 }, { name: 'a' }, { name: 'b' }, { name: 'c' }], []))
    const d0 = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope })
    expect(starts(d0.commands).map((s) => s.task.name)).toEqual(['fan', 'a'])
    const d1 = advance(plan, d0.state, { type: 'run_finished', at: 1, seq: seqOf(d0.commands, 'a'), result: success, scope })
    expect(starts(d1.commands).map((s) => s.task.name)).toEqual(['b'])
    expect(drive(plan, () => success).ran).toEqual(['fan', 'a', 'b', 'c'])
  })

  it('lets a branch loop, bounded by max_steps counted over every branch', () => {
    const plan = planOf(
      flow('fan', [{ name: 'fan', parallel: ['a', 'b'] }, { name: 'a' }, { name: 'b' }], [to('a', 'a')], { max_steps: 6 }),
    )
    const { state, ran } = drive(plan, () => success)
    expect(ran.length).toBe(6)
    expect(state).toMatchObject({ status: 'failed', error: { code: 'STEP_LIMIT_EXCEEDED' }, threads: [] })
  })

  it('runs a group inside a loop afresh each time', () => {
    const plan = planOf(
      flow('fan', [{ name: 'fan', parallel: ['a'] }, { name: 'a' }, { name: 'again' }], [
        to('fan', 'again'),
        { name: 'loop', source_task: 'again', when: 'results.again.data.n < 3', target_task_success: 'fan', target_task_failure: 'end' },
      ]),
    )
    let n = 0
    const { ran, state } = drive(plan, (task) => (task === 'again' ? { status: 'success', data: { n: ++n } } : success))
    expect(ran).toEqual(['fan', 'a', 'again', 'fan', 'a', 'again', 'fan', 'a', 'again'])
    expect(state.status).toBe('completed')
  })

  it('nests groups: a branch may hold a group of its own', () => {
    const plan = planOf(
      flow('outer', [{ name: 'outer', parallel: ['x', 'inner'] }, { name: 'x' }, { name: 'inner', parallel: ['y', 'z'] }, { name: 'y' }, { name: 'z' }], []),
    )
    const { ran, state, commands } = drive(plan, (task) => ({ status: 'success', data: task }))
    expect(ran).toEqual(['outer', 'x', 'inner', 'y', 'z'])
    expect(state.status).toBe('completed')
    expect(finishOf(commands, 'outer')?.data).toMatchObject({ value: { x: 'x', inner: { y: 'y', z: 'z' } } })
  })

  it('resumes a failed group by running only the failed branch from its failed task', () => {
    const plan = planOf(
      flow('fan', [{ name: 'fan', parallel: ['a', 'b'], max_concurrency: 1 }, { name: 'a' }, { name: 'b' }, { name: 'b2' }, { name: 'after' }], [to('b', 'b2'), to('fan', 'after')]),
    )
    const failed = drive(plan, failing('b2'))
    expect(failed.ran).toEqual(['fan', 'a', 'b', 'b2'])
    expect(failed.state).toMatchObject({ status: 'failed', failedTask: 'fan' })
    const resumed = drive(plan, () => success, { state: failed.state, event: 'resume' })
    expect(resumed.ran).toEqual(['fan', 'b2', 'after'])
    expect(resumed.state.status).toBe('completed')
  })

  it('resumes a cancelled sibling where it was stopped', () => {
    const plan = planOf(flow('fan', [{ name: 'fan', parallel: ['a', 'b'] }, { name: 'a' }, { name: 'a2' }, { name: 'b' }], [to('a', 'a2')]))
    const d0 = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope })
    const d1 = advance(plan, d0.state, { type: 'run_finished', at: 1, seq: seqOf(d0.commands, 'a'), result: success, scope })
    const d2 = advance(plan, d1.state, { type: 'run_finished', at: 2, seq: seqOf(d0.commands, 'b'), result: failure(), scope })
    expect(d2.state).toMatchObject({ status: 'failed', failedTask: 'fan' })
    const resumed = drive(plan, () => success, { state: d2.state, event: 'resume' })
    // Branches go on in the order the group lists them: a where it was cut off (a2), b from its failed task.
    expect(resumed.ran).toEqual(['fan', 'a2', 'b'])
  })

  it('after a crash, re-runs every branch run that was cut off', () => {
    const plan = planOf(twoBranches('all'))
    const d0 = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope })
    const d1 = advance(plan, d0.state, { type: 'run_finished', at: 1, seq: seqOf(d0.commands, 'b'), result: success, scope })
    const recovered = advance(plan, d1.state, { type: 'recover', at: 5, scope, maxRecoveries: 3 })
    expect(recovered.commands).toMatchObject([
      { type: 'interrupt_run', seq: seqOf(d0.commands, 'a'), task: 'a' },
      { type: 'start_run', task: { name: 'a' }, attempt: 2 },
    ])
  })
})

describe('for_each', () => {
  const fanOut = (extra: Record<string, unknown> = {}): unknown =>
    flow('each', [{ name: 'each', type: 'noop', for_each: 'input.list', input: { n: '${item}', i: '${index}' }, ...extra }, { name: 'after' }], [to('each', 'after', 'end')])

  it('runs the type once per item with item and index, at most max_concurrency at once, and collects data in item order', () => {
    const plan = planOf(fanOut({ max_concurrency: 2 }))
    const list = [10, 20, 30]
    const state0 = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope: { input: { list }, results: {} } })
    expect(starts(state0.commands).map((s) => [s.item, s.input])).toEqual([
      [null, null],
      [0, { n: 10, i: 0 }],
      [1, { n: 20, i: 1 }],
    ])
    expect(starts(state0.commands)[0]?.items).toEqual(list)
    const { state, commands } = drive(plan, (_task, _step, item) => ({ status: 'success', data: (item ?? 0) * 2 }), { state: INITIAL_STATE, event: 'start', input: { list } })
    expect(state.status).toBe('completed')
    expect(finishOf(commands.filter((c) => c.type !== 'finish_run' || !c.item), 'each')).toMatchObject({ status: 'success', data: { value: [0, 2, 4] }, nextTask: 'after' })
    expect(state.steps).toBe(2)
  })

  it('succeeds at once with [] over an empty list', () => {
    const { commands } = drive(planOf(fanOut()), () => success, { state: INITIAL_STATE, event: 'start', input: { list: [] } })
    expect(finishOf(commands, 'each')).toMatchObject({ status: 'success', data: { value: [] } })
  })

  it('fails the task when an item fails for good, cancelling the items still running', () => {
    const plan = planOf(fanOut({ max_concurrency: 3 }))
    const { commands } = drive(plan, (_t, _s, item) => (item === 1 ? failure('bad item') : success), { state: INITIAL_STATE, event: 'start', input: { list: [1, 2, 3] } })
    const parent = finishes(commands).find((f) => f.task === 'each' && !f.item)
    expect(parent).toMatchObject({ status: 'failure', error: { code: 'ITEM_FAILED', message: 'item 1 of task "each" failed: bad item' } })
  })

  it('retries each item with the task\'s own retry policy', () => {
    const plan = planOf(fanOut({ retry: { max_attempts: 2, backoff_ms: 0 } }))
    let failedOnce = false
    const { commands, state } = drive(plan, (_t, _s, item) => (item === 0 && !failedOnce ? ((failedOnce = true), failure()) : success), { state: INITIAL_STATE, event: 'start', input: { list: [1, 2] } })
    expect(state.status).toBe('completed')
    expect(starts(commands).filter((s) => s.item === 0).map((s) => s.attempt)).toEqual([1, 2])
  })

  it('fails with FOR_EACH_INVALID when the expression gives no list, and FOR_EACH_TOO_LARGE beyond 10,000 items', () => {
    const plan = planOf(fanOut())
    expect(finishOf(drive(plan, () => success, { state: INITIAL_STATE, event: 'start', input: { list: 'nope' } }).commands, 'each')).toMatchObject({ error: { code: 'FOR_EACH_INVALID' } })
    const big = Array.from({ length: 10_001 }, (_, i) => i)
    expect(finishOf(drive(plan, () => success, { state: INITIAL_STATE, event: 'start', input: { list: big } }).commands, 'each')).toMatchObject({ error: { code: 'FOR_EACH_TOO_LARGE' } })
  })
})

describe('the engine\'s own task types: wait, wait_for_signal, subflow', () => {
  const one = (task: Record<string, unknown>): ReturnType<typeof planOf> => planOf(flow('w', [{ name: 'w', ...task }, { name: 'next' }], [to('w', 'next', 'end')]))
  const start = (plan: ReturnType<typeof planOf>, at = 1000): Decision => advance(plan, INITIAL_STATE, { type: 'start', at, scope })

  it('parks a wait until its time, holding nothing, then goes on', () => {
    const plan = one({ type: 'wait', input: { ms: 5000 } })
    const d0 = start(plan)
    expect(d0.commands).toContainEqual({ type: 'park_run', seq: 1, task: 'w', waiting: { kind: 'timer', until: 6000 } })
    expect(d0.state.threads[0]).toMatchObject({ phase: 'parked', wakeAt: 6000 })
    expect(advance(plan, d0.state, { type: 'timer', at: 5999, scope }).commands).toEqual([])
    const d1 = advance(plan, d0.state, { type: 'timer', at: 6000, scope })
    expect(finishOf(d1.commands, 'w')).toMatchObject({ status: 'success', nextTask: 'next' })
  })

  it('goes on at once after a wait until a time in the past', () => {
    const d0 = start(one({ type: 'wait', input: { until: '2000-01-01T00:00:00Z' } }), Date.UTC(2026, 0, 1))
    expect(finishOf(d0.commands, 'w')).toMatchObject({ status: 'success', nextTask: 'next' })
  })

  it('fails a wait whose input is not {ms} or {until} with INPUT_INVALID', () => {
    expect(finishOf(start(one({ type: 'wait', input: { msec: 5 } })).commands, 'w')).toMatchObject({ error: { code: 'INPUT_INVALID' } })
  })

  it('parks a signal wait; a delivered signal becomes its data and is consumed; a timeout fails it with SIGNAL_TIMEOUT', () => {
    const plan = one({ type: 'wait_for_signal', input: { signal: 'approved', timeout_ms: 100 } })
    const d0 = start(plan)
    expect(d0.commands).toContainEqual({ type: 'park_run', seq: 1, task: 'w', waiting: { kind: 'signal', signal: 'approved', timeoutAt: 1100 } })
    const delivered = advance(plan, d0.state, { type: 'run_finished', at: 1050, seq: 1, result: { status: 'success', data: { ok: 1 } }, consumes: 9, scope })
    expect(delivered.commands[0]).toEqual({ type: 'consume_signal', seq: 1, task: 'w', signal: 'approved', signalSeq: 9 })
    expect(finishOf(delivered.commands, 'w')).toMatchObject({ status: 'success', data: { from: 'result' } })
    const timedOut = advance(plan, d0.state, { type: 'timer', at: 1100, scope })
    expect(finishOf(timedOut.commands, 'w')).toMatchObject({ status: 'failure', error: { code: 'SIGNAL_TIMEOUT' }, nextTask: 'end' })
  })

  it('starts a child execution for a subflow and parks until its end comes as the run\'s result', () => {
    const plan = one({ type: 'subflow', input: { flow_id: 'child', input: { x: 1 } } })
    const d0 = start(plan)
    expect(d0.commands).toContainEqual({ type: 'start_child', seq: 1, task: 'w', flowId: 'child', version: null, input: { x: 1 } })
    expect(d0.state.threads[0]).toMatchObject({ phase: 'parked', waiting: { kind: 'child' } })
    const cancelled = advance(plan, d0.state, { type: 'cancel', at: 2000, reason: 'stop' })
    expect(cancelled.commands).toContainEqual({ type: 'cancel_child', seq: 1 })
  })
})

describe('validation of branches', () => {
  const codes = (doc: unknown): string[] => {
    const parsed = parseFlow(doc)
    return parsed.ok ? [] : parsed.errors.map((e) => `${e.code} ${e.path}`)
  }

  it('refuses a condition that routes into a branch from outside, or out of one, at that condition\'s target', () => {
    expect(codes(flow('pre', [{ name: 'pre' }, { name: 'fan', parallel: ['a'] }, { name: 'a' }], [to('pre', 'fan', 'a')]))).toEqual([
      'ROUTES_INTO_BRANCH /conditions/0/target_task_failure',
    ])
    expect(codes(flow('fan', [{ name: 'fan', parallel: ['a'] }, { name: 'a' }, { name: 'after' }], [to('fan', 'after'), to('a', 'after')]))).toEqual([
      'ROUTES_OUT_OF_BRANCH /conditions/1/target_task_success',
    ])
  })

  it('refuses a task in two branches, unknown members, a group listing itself, and fields a group cannot have', () => {
    expect(
      codes(flow('g1', [{ name: 'g1', parallel: ['a', 'g1', 'nope'], type: 'noop', retry: {} }, { name: 'g2', parallel: ['a'] }, { name: 'a' }], [to('g1', 'g2')])),
    ).toEqual([
      'CONFLICTING_FIELDS /tasks/0/type',
      'CONFLICTING_FIELDS /tasks/0/retry',
      'INVALID_BRANCH /tasks/0/parallel/1',
      'UNKNOWN_BRANCH_TASK /tasks/0/parallel/2',
      'TASK_IN_TWO_BRANCHES /tasks/1/parallel/0',
    ])
  })

  it('refuses a flow that starts inside a branch, and join without parallel', () => {
    expect(codes(flow('a', [{ name: 'fan', parallel: ['a'] }, { name: 'a', join: 'any' }], []))).toEqual([
      'CONFLICTING_FIELDS /tasks/1/join',
      'ROUTES_INTO_BRANCH /start_task',
    ])
  })

  it('accepts loops inside a branch and no warning for branch tasks reached only from their group', () => {
    const parsed = parseFlow(flow('fan', [{ name: 'fan', parallel: ['a'] }, { name: 'a' }, { name: 'b' }], [to('a', 'b', 'a')]))
    expect(parsed.ok).toBe(true)
    expect(parsed.warnings.filter((w) => w.code === 'UNREACHABLE_TASK')).toEqual([])
  })
})

export type { ExecutionState }
