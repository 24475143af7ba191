import { describe, expect, it } from 'vitest'
import { advance, INITIAL_STATE } from '../../src/core/advance.js'
import { drive, failing, failure, planOf, success } from '../fixtures/drive.js'
import { seedFlow } from '../fixtures/flows.js'

const cond = (name: string, source: string, outcome: string, onMatch: string, otherwise: string): Record<string, string> => ({
  name, source_task: source, outcome, target_task_success: onMatch, target_task_failure: otherwise,
})
const flow = (tasks: string[], conditions: Record<string, string>[], extra: Record<string, unknown> = {}): unknown => ({
  id: 'f', name: 'F', start_task: tasks[0], tasks: tasks.map((name) => ({ name })), conditions, ...extra,
})

const seed = planOf(seedFlow())

describe('advance on the seed flow', () => {
  it('completes with task1, task2, task3 when every task succeeds', () => {
    const { state, ran, last } = drive(seed, () => success)
    expect(ran).toEqual(['task1', 'task2', 'task3'])
    expect(state).toMatchObject({ status: 'completed', failedTask: null, error: null, currentTask: null, steps: 3 })
    expect(last.command).toEqual({ type: 'finish' })
    expect(last.routedTo).toBeNull()
  })

  it('fails at task1 and routes to end when task1 fails', () => {
    const { state, ran, last } = drive(seed, failing('task1'))
    expect(ran).toEqual(['task1'])
    expect(state).toMatchObject({ status: 'failed', failedTask: 'task1', error: { code: 'TASK_FAILED' } })
    expect(state.error?.message).toContain('task1 failed')
    expect(last.routedTo).toBe('end')
  })

  it('fails at task2 after task1 when task2 fails', () => {
    const { state, ran } = drive(seed, failing('task2'))
    expect(ran).toEqual(['task1', 'task2'])
    expect(state).toMatchObject({ status: 'failed', failedTask: 'task2', steps: 2 })
  })

  it('numbers steps from 1 and asks for the start task first', () => {
    const decision = advance(seed, INITIAL_STATE, { type: 'start' })
    expect(decision.command).toMatchObject({ type: 'run_task', step: 1, task: { name: 'task1', type: 'task1' } })
    expect(decision.state).toMatchObject({ status: 'running', currentTask: 'task1', steps: 1 })
    expect(advance(seed, decision.state, { type: 'start' }).command).toEqual({ type: 'none' })
  })
})

describe('advance routing', () => {
  it('completes when a failure is routed to a recovery task that succeeds', () => {
    const plan = planOf(flow(['work', 'recover'], [cond('c', 'work', 'success', 'end', 'recover')]))
    const { state, ran } = drive(plan, failing('work'))
    expect(ran).toEqual(['work', 'recover'])
    expect(state).toMatchObject({ status: 'completed', failedTask: null, error: null })
  })

  it('routes a task whose status equals outcome "failure" to target_task_success', () => {
    const plan = planOf(flow(['probe', 'on_failure', 'on_success'], [cond('c', 'probe', 'failure', 'on_failure', 'on_success')]))
    expect(drive(plan, failing('probe')).ran).toEqual(['probe', 'on_failure'])
    expect(drive(plan, () => success).ran).toEqual(['probe', 'on_success'])
  })

  it('ends the flow after a task with no condition: completed on success, failed on failure', () => {
    const plan = planOf(flow(['a', 'b'], [cond('c', 'a', 'success', 'b', 'b')]))
    expect(drive(plan, () => success).state).toMatchObject({ status: 'completed' })
    const failed = drive(plan, failing('b'))
    expect(failed.state).toMatchObject({ status: 'failed', failedTask: 'b', error: { code: 'TASK_FAILED' } })
    expect(failed.last.routedTo).toBeNull()
  })

  it('completes when the last task succeeds even though an earlier one failed', () => {
    const plan = planOf(flow(['a', 'b'], [cond('c', 'a', 'success', 'end', 'b')]))
    expect(drive(plan, failing('a')).state).toMatchObject({ status: 'completed', failedTask: null, error: null })
  })

  it('stops a loop at max_steps with STEP_LIMIT_EXCEEDED and no failed task', () => {
    const plan = planOf(flow(['a', 'b'], [cond('ca', 'a', 'success', 'b', 'end'), cond('cb', 'b', 'success', 'a', 'end')], { max_steps: 5 }))
    const { state, ran, last } = drive(plan, () => success)
    expect(ran).toEqual(['a', 'b', 'a', 'b', 'a'])
    expect(state).toMatchObject({ status: 'failed', failedTask: null, steps: 5, error: { code: 'STEP_LIMIT_EXCEEDED' } })
    expect(state.error?.message).toContain('max_steps (5)')
    expect(last.routedTo).toBe('b')
  })

  it('lets a flow use exactly max_steps task runs', () => {
    const plan = planOf(flow(['a', 'b'], [cond('ca', 'a', 'success', 'b', 'end')], { max_steps: 2 }))
    expect(drive(plan, () => success).state.status).toBe('completed')
  })
})

describe('advance on cancel, fail and resume', () => {
  const running = advance(seed, INITIAL_STATE, { type: 'start' }).state

  it('cancels a running execution with EXECUTION_CANCELLED and the reason given', () => {
    const decision = advance(seed, running, { type: 'cancel', reason: 'user asked' })
    expect(decision.command).toEqual({ type: 'finish' })
    expect(decision.state).toMatchObject({ status: 'cancelled', currentTask: null, error: { code: 'EXECUTION_CANCELLED', message: 'user asked' } })
  })

  it('cancels a pending execution', () => {
    expect(advance(seed, INITIAL_STATE, { type: 'cancel' }).state.status).toBe('cancelled')
  })

  it('ignores cancel, fail and task results once the execution is terminal', () => {
    const done = drive(seed, () => success).state
    for (const event of [{ type: 'cancel' }, { type: 'fail', error: { code: 'ENGINE_ERROR', message: 'x' } }, { type: 'task_finished', result: failure() }] as const) {
      const decision = advance(seed, done, event)
      expect(decision.state).toBe(done)
      expect(decision.command).toEqual({ type: 'none' })
    }
  })

  it('fails a running execution on a fail event with the error given', () => {
    const decision = advance(seed, running, { type: 'fail', error: { code: 'ENGINE_ERROR', message: 'disk full' } })
    expect(decision.state).toMatchObject({ status: 'failed', error: { code: 'ENGINE_ERROR', message: 'disk full' } })
  })

  it('resumes a failed execution at the failed task and runs on to the end', () => {
    const failed = drive(seed, failing('task2')).state
    const resumed = drive(seed, () => success, { state: failed, event: 'resume' })
    expect(resumed.ran).toEqual(['task2', 'task3'])
    expect(resumed.state).toMatchObject({ status: 'completed', failedTask: null, error: null, steps: 4 })
  })

  it('gives a resumed execution a fresh step budget', () => {
    const plan = planOf(flow(['a', 'b'], [cond('ca', 'a', 'success', 'b', 'end'), cond('cb', 'b', 'success', 'end', 'end')], { max_steps: 2 }))
    const failed = drive(plan, failing('b')).state
    expect(failed).toMatchObject({ steps: 2, failedTask: 'b' })
    const resumed = drive(plan, () => success, { state: failed, event: 'resume' })
    expect(resumed.ran).toEqual(['b'])
    expect(resumed.state).toMatchObject({ status: 'completed', steps: 3, stepBase: 2 })
  })

  it('refuses to resume an execution that did not fail in a task', () => {
    const limited = planOf(flow(['a'], [cond('ca', 'a', 'success', 'a', 'a')], { max_steps: 1 }))
    const stopped = drive(limited, () => success).state
    expect(stopped.error?.code).toBe('STEP_LIMIT_EXCEEDED')
    expect(advance(limited, stopped, { type: 'resume' }).command).toEqual({ type: 'none' })
    const completed = drive(seed, () => success).state
    expect(advance(seed, completed, { type: 'resume' }).command).toEqual({ type: 'none' })
  })
})
