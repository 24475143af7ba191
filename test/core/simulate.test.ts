import { describe, expect, it } from 'vitest'
import { simulate } from '../../src/core/simulate.js'
import { planOf } from '../fixtures/drive.js'
import { seedFlow } from '../fixtures/flows.js'

describe('simulate', () => {
  const seed = planOf(seedFlow())

  it('walks the seed flow to completion when every task succeeds', () => {
    expect(simulate(seed)).toMatchObject({ path: ['task1', 'task2', 'task3'], status: 'completed', steps: 3 })
  })

  it('follows target_task_failure for a task given a failure outcome', () => {
    expect(simulate(seed, { outcomes: { task2: 'failure' } })).toMatchObject({ path: ['task1', 'task2'], status: 'failed', failedTask: 'task2' })
  })

  it('uses up the retries of a failing task, one path entry per attempt', () => {
    const plan = planOf({ id: 'r', name: 'R', start_task: 'a', tasks: [{ name: 'a', retry: { max_attempts: 3 } }], conditions: [] })
    expect(simulate(plan, { outcomes: { a: 'failure' } })).toMatchObject({ path: ['a', 'a', 'a'], status: 'failed', steps: 1 })
  })

  it('routes data conditions on the given data and input', () => {
    const plan = planOf({
      id: 'd',
      name: 'D',
      start_task: 'fetch',
      tasks: [{ name: 'fetch' }, { name: 'big' }, { name: 'small', input: { n: '${results.fetch.data.count}' } }],
      conditions: [{ name: 'c', source_task: 'fetch', when: 'results.fetch.data.count > input.limit', target_task_success: 'big', target_task_failure: 'small' }],
    })
    expect(simulate(plan, { input: { limit: 10 }, data: { fetch: { count: 50 } } }).path).toEqual(['fetch', 'big'])
    expect(simulate(plan, { input: { limit: 10 }, data: { fetch: { count: 5 } } }).path).toEqual(['fetch', 'small'])
    expect(simulate(plan, { input: { limit: 10 } })).toMatchObject({ path: ['fetch'], status: 'failed', error: { code: 'CONDITION_ERROR' } })
  })

  it('stops a loop at max_steps', () => {
    const plan = planOf({
      id: 'l',
      name: 'L',
      start_task: 'a',
      max_steps: 5,
      tasks: [{ name: 'a' }],
      conditions: [{ name: 'c', source_task: 'a', outcome: 'success', target_task_success: 'a', target_task_failure: 'end' }],
    })
    expect(simulate(plan)).toMatchObject({ status: 'failed', steps: 5, error: { code: 'STEP_LIMIT_EXCEEDED' } })
  })
})
