import { describe, expect, it } from 'vitest'
import { advance, INITIAL_STATE, rerun, retryDelay, type Decision } from '../../src/core/advance.js'
import { retryPolicy } from '../../src/core/plan.js'
import { failure, planOf, success } from '../fixtures/drive.js'

const retrying = planOf({
  id: 'r',
  name: 'Retry',
  start_task: 'a',
  tasks: [{ name: 'a', retry: { max_attempts: 4, backoff_ms: 100, backoff_factor: 3, max_backoff_ms: 500 } }, { name: 'b' }],
  conditions: [{ name: 'c', source_task: 'a', outcome: 'success', target_task_success: 'b', target_task_failure: 'end' }],
})

describe('advance with retry', () => {
  it('asks for the same task at the same step with the next attempt and the backoff, capped at max_backoff_ms', () => {
    let d: Decision = advance(retrying, INITIAL_STATE, { type: 'start' })
    expect(d.command).toMatchObject({ type: 'run_task', step: 1, attempt: 1, delayMs: 0 })
    const planned: [number, number, number][] = []
    for (let i = 0; i < 3; i++) {
      d = advance(retrying, d.state, { type: 'task_finished', result: failure() })
      if (d.command.type !== 'run_task') throw new Error('expected a retry')
      planned.push([d.command.step, d.command.attempt, d.command.delayMs])
    }
    expect(planned).toEqual([
      [1, 2, 100],
      [1, 3, 300],
      [1, 4, 500],
    ])
    d = advance(retrying, d.state, { type: 'task_finished', result: failure() })
    expect(d.state).toMatchObject({ status: 'failed', failedTask: 'a', error: { code: 'TASK_FAILED' } })
  })

  it('goes on to the next task at attempt 1 after a retry succeeds', () => {
    let d = advance(retrying, INITIAL_STATE, { type: 'start' })
    d = advance(retrying, d.state, { type: 'task_finished', result: failure() })
    d = advance(retrying, d.state, { type: 'task_finished', result: success })
    expect(d.command).toMatchObject({ type: 'run_task', task: { name: 'b' }, step: 2, attempt: 1, delayMs: 0 })
  })

  it('does not retry a failure marked non-retryable or with INPUT_INVALID / RESULT_INVALID', () => {
    for (const error of [{ message: 'x', retryable: false }, { message: 'x', code: 'INPUT_INVALID' }, { message: 'x', code: 'RESULT_INVALID' }]) {
      const d0 = advance(retrying, INITIAL_STATE, { type: 'start' })
      const d = advance(retrying, d0.state, { type: 'task_finished', result: { status: 'failure', error } })
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

  it('rerun re-issues the current task at its step with the given attempt (recovery)', () => {
    const d0 = advance(retrying, INITIAL_STATE, { type: 'start' })
    const again = rerun(retrying, d0.state, 2)
    expect(again.command).toMatchObject({ type: 'run_task', task: { name: 'a' }, step: 1, attempt: 2, delayMs: 0 })
    expect(again.state.attempt).toBe(2)
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
    const d = advance(plan, INITIAL_STATE, { type: 'start' })
    const result = { status: 'success', data } as const
    return advance(plan, d.state, { type: 'task_finished', result, scope: { input, results: { a: { status: 'success', data, error: null } } } })
  }

  it('takes the first matching case, then the default', () => {
    expect(after({ n: 5 }, { go: true }).routedTo).toBe('x')
    expect(after({ n: 0 }, { go: true }).routedTo).toBe('y')
    expect(after({ n: 0 }, { go: false })).toMatchObject({ routedTo: 'end', state: { status: 'completed' } })
  })

  it('fails with CONDITION_ERROR when a case gives no boolean or cannot be evaluated, naming the condition', () => {
    expect(after({ n: 0 }, { go: 'yes' }).state.error).toMatchObject({ code: 'CONDITION_ERROR', message: expect.stringContaining('condition "pick"') as unknown })
    expect(after({}, {}).state.error?.code).toBe('CONDITION_ERROR')
  })
})
