import { describe, expect, it } from 'vitest'
import { advance, INITIAL_STATE, retryDelay, type Decision } from '../../src/core/advance.js'
import type { FinishRun, StartRun } from '../../src/core/commands.js'
import { retryPolicy } from '../../src/core/plan.js'
import { drive, failure, planOf, success } from '../fixtures/drive.js'

const scope = { input: {}, results: {} }
const retrying = planOf({
  id: 'r',
  name: 'Retry',
  start_task: 'a',
  tasks: [{ name: 'a', retry: { max_attempts: 4, backoff_ms: 100, backoff_factor: 3, max_backoff_ms: 500 } }, { name: 'b' }],
  conditions: [{ name: 'c', source_task: 'a', outcome: 'success', target_task_success: 'b', target_task_failure: 'end' }],
})
const starts = (d: Decision): StartRun[] => d.commands.filter((c): c is StartRun => c.type === 'start_run')
const finishes = (d: Decision): FinishRun[] => d.commands.filter((c): c is FinishRun => c.type === 'finish_run')

describe('advance with retry', () => {
  it('records each failed attempt with its retry time, waits the backoff (capped at max_backoff_ms), then starts the next attempt at the same step', () => {
    let d: Decision = advance(retrying, INITIAL_STATE, { type: 'start', at: 0, scope })
    expect(starts(d)).toMatchObject([{ seq: 1, step: 1, attempt: 1 }])
    const planned: [number | null, number, number][] = []
    let at = 0
    for (let i = 0; i < 3; i++) {
      const seq = d.state.seq
      d = advance(retrying, d.state, { type: 'run_finished', at, seq, result: failure(), scope })
      const finish = finishes(d)[0]!
      expect(d.state.threads[0]).toMatchObject({ phase: 'backoff', wakeAt: finish.retryAt })
      expect(starts(d)).toEqual([])
      // Nothing happens before the retry is due.
      expect(advance(retrying, d.state, { type: 'timer', at: (finish.retryAt ?? 0) - 1, scope }).commands).toEqual([])
      at = finish.retryAt ?? 0
      d = advance(retrying, d.state, { type: 'timer', at, scope })
      const next = starts(d)[0]!
      planned.push([finish.retryAt, next.step, next.attempt])
    }
    expect(planned).toEqual([
      [100, 1, 2],
      [400, 1, 3],
      [900, 1, 4],
    ])
    d = advance(retrying, d.state, { type: 'run_finished', at, seq: d.state.seq, result: failure(), scope })
    expect(d.state).toMatchObject({ status: 'failed', failedTask: 'a', error: { code: 'TASK_FAILED' } })
    expect(finishes(d)[0]?.retryAt).toBeNull()
  })

  it('goes on to the next task at attempt 1 after a retry succeeds', () => {
    let attemptsOfA = 0
    const { ran, state, commands } = drive(retrying, (task) => (task === 'a' && ++attemptsOfA === 1 ? failure() : success))
    expect(ran).toEqual(['a', 'a', 'b'])
    expect(state.status).toBe('completed')
    expect(commands.filter((c): c is StartRun => c.type === 'start_run').map((c) => [c.task.name, c.step, c.attempt])).toEqual([
      ['a', 1, 1],
      ['a', 1, 2],
      ['b', 2, 1],
    ])
  })

  it('does not retry a failure marked non-retryable or with INPUT_INVALID / RESULT_INVALID / DATA_TOO_LARGE', () => {
    for (const error of [{ message: 'x', retryable: false }, { message: 'x', code: 'INPUT_INVALID' }, { message: 'x', code: 'RESULT_INVALID' }, { message: 'x', code: 'DATA_TOO_LARGE' }]) {
      const d0 = advance(retrying, INITIAL_STATE, { type: 'start', at: 0, scope })
      const d = advance(retrying, d0.state, { type: 'run_finished', at: 1, seq: 1, result: { status: 'failure', error }, scope })
      expect(d.state.status).toBe('failed')
    }
  })

  it('computes jitter from the random number in the event: 50% to 100% of the backoff, deterministically', () => {
    const policy = retryPolicy({ backoff_ms: 1000, jitter: true })
    expect(retryDelay(policy, 1, 0)).toBe(500)
    expect(retryDelay(policy, 1, 0.5)).toBe(750)
    expect(retryDelay(policy, 1, 1)).toBe(1000)
    expect(retryDelay(policy, 1)).toBe(1000)
    expect(retryDelay(policy, 2, 0.5)).toBe(retryDelay(policy, 2, 0.5))
    expect(retryDelay(policy, 2, 0)).toBe(1000)
  })

  it('starts the next attempt at once when the backoff is 0', () => {
    const plan = planOf({ id: 'z', name: 'Z', start_task: 'a', tasks: [{ name: 'a', retry: { max_attempts: 2, backoff_ms: 0 } }], conditions: [] })
    const d0 = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope })
    const d = advance(plan, d0.state, { type: 'run_finished', at: 1, seq: 1, result: failure(), scope })
    expect(starts(d)).toMatchObject([{ seq: 2, attempt: 2 }])
  })
})

describe('advance with timeouts', () => {
  it('fails a run that runs over its timeout_ms with TASK_TIMEOUT, aborting it, and routes the failure', () => {
    const plan = planOf({
      id: 't', name: 'T', start_task: 'slow', tasks: [{ name: 'slow', timeout_ms: 50 }, { name: 'fallback' }],
      conditions: [{ name: 'c', source_task: 'slow', outcome: 'success', target_task_success: 'end', target_task_failure: 'fallback' }],
    })
    const d0 = advance(plan, INITIAL_STATE, { type: 'start', at: 1000, scope })
    expect(d0.state.threads[0]).toMatchObject({ phase: 'run', wakeAt: 1050 })
    const d = advance(plan, d0.state, { type: 'timer', at: 1050, scope })
    expect(d.commands[0]).toMatchObject({ type: 'abort_run', seq: 1, code: 'TASK_TIMEOUT' })
    expect(finishes(d)[0]).toMatchObject({ seq: 1, status: 'failure', error: { code: 'TASK_TIMEOUT' }, nextTask: 'fallback' })
    expect(starts(d)).toMatchObject([{ task: { name: 'fallback' } }])
  })

  it("fails the execution with EXECUTION_TIMEOUT when the flow's timeout_ms passes, closing the open run", () => {
    const plan = planOf({ id: 't', name: 'T', start_task: 'a', timeout_ms: 100, tasks: [{ name: 'a' }], conditions: [] })
    const d0 = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope })
    expect(d0.state.deadline).toBe(100)
    const d = advance(plan, d0.state, { type: 'timer', at: 100, scope })
    expect(d.state).toMatchObject({ status: 'failed', error: { code: 'EXECUTION_TIMEOUT' } })
    expect(finishes(d)[0]).toMatchObject({ seq: 1, error: { code: 'EXECUTION_TIMEOUT' } })
  })
})

describe('advance with data conditions', () => {
  const plan = planOf({
    id: 'd',
    name: 'Data',
    start_task: 'a',
    tasks: [{ name: 'a' }, { name: 'x' }, { name: 'y' }],
    conditions: [{ name: 'pick', source_task: 'a', cases: [{ when: 'results.a.data.n > 1.0', target: 'x' }, { when: 'input.go', target: 'y' }], default: 'end' }],
  })
  const after = (data: unknown, input: unknown): Decision => {
    const d = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope })
    const result = { status: 'success', data } as const
    return advance(plan, d.state, { type: 'run_finished', at: 1, seq: 1, result, scope: { input, results: { a: { status: 'success', data, error: null } } } })
  }
  const routedTo = (d: Decision): string | null | undefined => finishes(d)[0]?.nextTask

  it('takes the first matching case, then the default', () => {
    expect(routedTo(after({ n: 5 }, { go: true }))).toBe('x')
    expect(routedTo(after({ n: 0 }, { go: true }))).toBe('y')
    const ended = after({ n: 0 }, { go: false })
    expect(routedTo(ended)).toBe('end')
    expect(ended.state.status).toBe('completed')
  })

  it('fails with CONDITION_ERROR when a case gives no boolean or cannot be evaluated, naming the condition', () => {
    expect(after({ n: 0 }, { go: 'yes' }).state.error).toMatchObject({ code: 'CONDITION_ERROR', message: expect.stringContaining('condition "pick"') as unknown })
    expect(after({}, {}).state.error?.code).toBe('CONDITION_ERROR')
  })
})

describe('advance with input mapping', () => {
  it('fails the run with INPUT_MAPPING_ERROR without asking for it to run, and routes the failure', () => {
    const plan = planOf({
      id: 'm', name: 'M', start_task: 'a', tasks: [{ name: 'a', input: { v: '${input.missing.deep}' } }, { name: 'b' }],
      conditions: [{ name: 'c', source_task: 'a', outcome: 'success', target_task_success: 'end', target_task_failure: 'b' }],
    })
    const d = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope })
    expect(finishes(d)[0]).toMatchObject({ seq: 1, status: 'failure', error: { code: 'INPUT_MAPPING_ERROR' }, nextTask: 'b' })
    expect(starts(d).map((s) => s.task.name)).toEqual(['a', 'b'])
  })

  it('hands a run its input rendered from the input and earlier results', () => {
    const plan = planOf({
      id: 'm', name: 'M', start_task: 'a', tasks: [{ name: 'a' }, { name: 'b', input: { n: '${results.a.data.n}', who: 'user ${input.name}' } }],
      conditions: [{ name: 'c', source_task: 'a', outcome: 'success', target_task_success: 'b', target_task_failure: 'end' }],
    })
    const d0 = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope: { input: { name: 'ada' }, results: {} } })
    const d = advance(plan, d0.state, { type: 'run_finished', at: 1, seq: 1, result: success, scope: { input: { name: 'ada' }, results: { a: { status: 'success', data: { n: 7 }, error: null } } } })
    expect(starts(d)[0]?.input).toEqual({ n: 7, who: 'user ada' })
  })
})
