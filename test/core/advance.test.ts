import { describe, expect, it } from 'vitest'
import { advance, currentTask, INITIAL_STATE } from '../../src/core/advance.js'
import type { Command, FinishRun } from '../../src/core/commands.js'
import { drive, failing, failure, planOf, success } from '../fixtures/drive.js'
import { seedFlow } from '../fixtures/flows.js'

const cond = (name: string, source: string, outcome: string, onMatch: string, otherwise: string): Record<string, string> => ({
  name, source_task: source, outcome, target_task_success: onMatch, target_task_failure: otherwise,
})
const flow = (tasks: string[], conditions: Record<string, string>[], extra: Record<string, unknown> = {}): unknown => ({
  id: 'f', name: 'F', start_task: tasks[0], tasks: tasks.map((name) => ({ name })), conditions, ...extra,
})
const scope = { input: {}, results: {} }
const lastFinish = (commands: readonly Command[]): FinishRun | undefined => commands.filter((c): c is FinishRun => c.type === 'finish_run').at(-1)

const seed = planOf(seedFlow())

describe('advance on the seed flow', () => {
  it('completes with task1, task2, task3 when every task succeeds', () => {
    const { state, ran, last } = drive(seed, () => success)
    expect(ran).toEqual(['task1', 'task2', 'task3'])
    expect(state).toMatchObject({ status: 'completed', failedTask: null, error: null, steps: 3, threads: [] })
    expect(currentTask(state)).toBeNull()
    expect(last.commands.at(-1)).toEqual({ type: 'finish', status: 'completed' })
    expect(lastFinish(last.commands)?.nextTask).toBeNull()
  })

  it('fails at task1 and routes to end when task1 fails', () => {
    const { state, ran, last } = drive(seed, failing('task1'))
    expect(ran).toEqual(['task1'])
    expect(state).toMatchObject({ status: 'failed', failedTask: 'task1', error: { code: 'TASK_FAILED' } })
    expect(state.error?.message).toContain('task1 failed')
    expect(lastFinish(last.commands)?.nextTask).toBe('end')
  })

  it('fails at task2 after task1 when task2 fails', () => {
    const { state, ran } = drive(seed, failing('task2'))
    expect(ran).toEqual(['task1', 'task2'])
    expect(state).toMatchObject({ status: 'failed', failedTask: 'task2', steps: 2 })
  })

  it('numbers steps and task runs from 1 and asks for the start task first', () => {
    const decision = advance(seed, INITIAL_STATE, { type: 'start', at: 0, scope })
    expect(decision.commands).toMatchObject([{ type: 'start_run', seq: 1, step: 1, attempt: 1, task: { name: 'task1', type: 'task1' } }])
    expect(decision.state).toMatchObject({ status: 'running', steps: 1, seq: 1 })
    expect(currentTask(decision.state)).toBe('task1')
    expect(advance(seed, decision.state, { type: 'start', at: 0, scope }).commands).toEqual([])
  })

  it('ignores the result of a run that is not open (late, or already closed)', () => {
    const running = advance(seed, INITIAL_STATE, { type: 'start', at: 0, scope }).state
    const stale = advance(seed, running, { type: 'run_finished', at: 1, seq: 7, result: success, scope })
    expect(stale.state).toBe(running)
    expect(stale.commands).toEqual([])
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
    expect(lastFinish(failed.commands)?.nextTask).toBeNull()
  })

  it('completes when the last task succeeds even though an earlier one failed', () => {
    const plan = planOf(flow(['a', 'b'], [cond('c', 'a', 'success', 'end', 'b')]))
    expect(drive(plan, failing('a')).state).toMatchObject({ status: 'completed', failedTask: null, error: null })
  })

  it('stops a loop at max_steps with STEP_LIMIT_EXCEEDED and no failed task', () => {
    const plan = planOf(flow(['a', 'b'], [cond('ca', 'a', 'success', 'b', 'end'), cond('cb', 'b', 'success', 'a', 'end')], { max_steps: 5 }))
    const { state, ran, commands } = drive(plan, () => success)
    expect(ran).toEqual(['a', 'b', 'a', 'b', 'a'])
    expect(state).toMatchObject({ status: 'failed', failedTask: null, steps: 5, error: { code: 'STEP_LIMIT_EXCEEDED' } })
    expect(state.error?.message).toContain('max_steps (5)')
    expect(lastFinish(commands)?.nextTask).toBe('b')
  })

  it('lets a flow use exactly max_steps task runs', () => {
    const plan = planOf(flow(['a', 'b'], [cond('ca', 'a', 'success', 'b', 'end')], { max_steps: 2 }))
    expect(drive(plan, () => success).state.status).toBe('completed')
  })
})

describe('advance on cancel, fail and resume', () => {
  const started = advance(seed, INITIAL_STATE, { type: 'start', at: 0, scope })
  const running = started.state

  it('cancels a running execution with EXECUTION_CANCELLED, closing and aborting the open run', () => {
    const decision = advance(seed, running, { type: 'cancel', at: 5, reason: 'user asked' })
    expect(decision.commands).toEqual([
      { type: 'abort_run', seq: 1, code: 'EXECUTION_CANCELLED', message: 'user asked' },
      expect.objectContaining({ type: 'finish_run', seq: 1, status: 'failure', error: { message: 'user asked', code: 'EXECUTION_CANCELLED', retryable: false } }),
      { type: 'finish', status: 'cancelled' },
    ])
    expect(decision.state).toMatchObject({ status: 'cancelled', threads: [], error: { code: 'EXECUTION_CANCELLED', message: 'user asked' } })
    // A result that comes after the cancel changes nothing: one truth.
    expect(advance(seed, decision.state, { type: 'run_finished', at: 6, seq: 1, result: success, scope }).commands).toEqual([])
  })

  it('cancels a pending execution', () => {
    expect(advance(seed, INITIAL_STATE, { type: 'cancel', at: 0, reason: 'x' }).state.status).toBe('cancelled')
  })

  it('ignores cancel, fail, results and timers once the execution is terminal', () => {
    const done = drive(seed, () => success).state
    const events = [
      { type: 'cancel', at: 1, reason: 'x' },
      { type: 'fail', at: 1, error: { code: 'ENGINE_ERROR', message: 'x' } },
      { type: 'run_finished', at: 1, seq: 3, result: failure(), scope },
      { type: 'timer', at: 1e12, scope },
    ] as const
    for (const event of events) {
      const decision = advance(seed, done, event)
      expect(decision.state).toBe(done)
      expect(decision.commands).toEqual([])
    }
  })

  it('fails a running execution on a fail event with the error given', () => {
    const decision = advance(seed, running, { type: 'fail', at: 1, error: { code: 'ENGINE_ERROR', message: 'disk full' } })
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
    expect(advance(limited, stopped, { type: 'resume', at: 0, scope }).commands).toEqual([])
    const completed = drive(seed, () => success).state
    expect(advance(seed, completed, { type: 'resume', at: 0, scope }).commands).toEqual([])
  })
})

describe('advance after a crash (recover) and on shutdown (suspend)', () => {
  const running = advance(seed, INITIAL_STATE, { type: 'start', at: 0, scope }).state

  it('records the cut-off run as interrupted and runs it again as the next attempt at the same step', () => {
    const d = advance(seed, running, { type: 'recover', at: 10, scope, maxRecoveries: 3 })
    expect(d.commands).toMatchObject([
      { type: 'interrupt_run', seq: 1, task: 'task1', attempt: 1 },
      { type: 'start_run', seq: 2, step: 1, attempt: 2, task: { name: 'task1' } },
    ])
    expect(d.state.threads[0]).toMatchObject({ crashes: 1, attempt: 2, seq: 2 })
  })

  it('fails with TASK_CRASHED once a run was cut off max_recoveries times in a row', () => {
    let state = running
    for (let i = 0; i < 2; i++) state = advance(seed, state, { type: 'recover', at: 10 + i, scope, maxRecoveries: 3 }).state
    expect(state.status).toBe('running')
    const d = advance(seed, state, { type: 'recover', at: 20, scope, maxRecoveries: 3 })
    expect(d.state).toMatchObject({ status: 'failed', failedTask: 'task1', error: { code: 'TASK_CRASHED' } })
    expect(d.state.error?.message).toContain('task "task1" was cut off by a crash 3 times in a row')
    // The cut-off run is closed once, as the failure that ended the execution.
    expect(d.commands.filter((c) => c.type === 'interrupt_run' || c.type === 'finish_run')).toMatchObject([
      { type: 'finish_run', seq: 3, status: 'failure', error: { code: 'TASK_CRASHED' } },
    ])
  })

  it('runs again, counting no crash, what a live owner handed back (a step it could not record)', () => {
    let state = running
    for (let i = 0; i < 5; i++) state = advance(seed, state, { type: 'recover', at: 10 + i, scope, maxRecoveries: 1, handedBack: true }).state
    expect(state.status).toBe('running')
    expect(state.threads[0]).toMatchObject({ crashes: 0, attempt: 6 })
    // A crash after that is the first one.
    expect(advance(seed, state, { type: 'recover', at: 20, scope, maxRecoveries: 2 }).state.threads[0]).toMatchObject({ crashes: 1 })
  })

  it('counts crashes of one run only: a run that finishes starts the count again', () => {
    let state = advance(seed, running, { type: 'recover', at: 10, scope, maxRecoveries: 2 }).state
    state = advance(seed, state, { type: 'run_finished', at: 11, seq: 2, result: success, scope }).state
    const d = advance(seed, state, { type: 'recover', at: 12, scope, maxRecoveries: 2 })
    expect(d.state.status).toBe('running')
    expect(d.state.threads[0]).toMatchObject({ task: 'task2', crashes: 1 })
  })

  it('starts a queued execution when it is recovered before it ever started', () => {
    expect(advance(seed, INITIAL_STATE, { type: 'recover', at: 0, scope, maxRecoveries: 3 }).commands).toMatchObject([{ type: 'start_run', task: { name: 'task1' } }])
  })

  it('interrupts runs in flight on suspend and makes them due at once, without counting a crash', () => {
    const d = advance(seed, running, { type: 'suspend', at: 50 })
    expect(d.commands).toEqual([{ type: 'interrupt_run', seq: 1, task: 'task1', attempt: 1 }])
    expect(d.state.threads[0]).toMatchObject({ phase: 'backoff', wakeAt: 50, crashes: 0 })
    const again = advance(seed, d.state, { type: 'recover', at: 60, scope, maxRecoveries: 1 })
    expect(again.commands).toMatchObject([{ type: 'start_run', seq: 2, attempt: 2, task: { name: 'task1' } }])
  })
})
