import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { isFlowManagerError } from '../../src/core/errors.js'
import { toExecutionView } from '../../src/engine/execution-view.js'
import { defineTask } from '../../src/tasks/define-task.js'
import { signal, sqliteEngine, tempDir, type TestEngine } from '../fixtures/engine.js'

const dir = tempDir()
const stuckStarted = signal()
let stuckSignal: AbortSignal | undefined

const circular: Record<string, unknown> = { name: 'loop' }
circular.self = circular

const custom = [
  defineTask({
    name: 'throws',
    description: 'throws an Error',
    run: () => {
      throw new RangeError('the widget is out of range')
    },
  }),
  defineTask({ name: 'rejects', description: 'rejects with a string', run: () => Promise.reject(new Error('async trouble')) }),
  defineTask({ name: 'returns-function', description: 'returns a function', run: () => () => 1 }),
  defineTask({ name: 'returns-bigint', description: 'returns a bigint', run: () => ({ status: 'success', data: { n: 10n } }) }),
  defineTask({ name: 'returns-circular', description: 'returns a circular object', run: () => circular }),
  defineTask({
    name: 'stuck',
    description: 'never settles and ignores its signal',
    run: (_input, context) => {
      stuckSignal = context.signal
      stuckStarted.resolve()
      return new Promise(() => undefined)
    },
  }),
  defineTask({
    name: 'typed',
    description: 'needs a count',
    input: z.object({ count: z.number().int().min(1) }),
    run: (input) => ({ doubled: input.count * 2 }),
  }),
]
let t: TestEngine

beforeAll(async () => {
  t = await sqliteEngine(dir.path, custom)
})
afterAll(async () => {
  await t.close()
  dir.remove()
})

const single = (type: string, input?: Record<string, unknown>): { flow: unknown } => ({
  flow: { id: `only-${type}`, name: type, start_task: 'only', tasks: [{ name: 'only', type, ...(input === undefined ? {} : { input }) }], conditions: [] },
})

describe('the engine when a task misbehaves', () => {
  it('records a thrown error as a failure that keeps its message, name and stack', async () => {
    const detail = await t.engine.run(single('throws'))
    expect(detail.execution).toMatchObject({ status: 'failed', failedTask: 'only' })
    const error = detail.runs[0]?.error
    expect(error).toMatchObject({ message: 'the widget is out of range', name: 'RangeError' })
    expect(error?.stack).toContain('the widget is out of range')
    const stored = await t.engine.get(detail.execution.id)
    expect(stored?.runs[0]?.error?.stack).toBe(error?.stack)
    expect(toExecutionView(stored!).task_results[0]?.error_stack).toBe(error?.stack)
  })

  it('records a rejected promise as a failure with its message', async () => {
    const detail = await t.engine.run(single('rejects'))
    expect(detail.runs[0]).toMatchObject({ status: 'failure', error: { message: 'async trouble' } })
  })

  it.each(['returns-function', 'returns-bigint', 'returns-circular'])('fails the task run with RESULT_INVALID when it %s', async (type) => {
    const detail = await t.engine.run(single(type))
    expect(detail.execution.status).toBe('failed')
    expect(detail.runs[0]).toMatchObject({ status: 'failure', data: null, error: { code: 'RESULT_INVALID', retryable: false } })
    expect((await t.engine.get(detail.execution.id))?.runs[0]?.error?.code).toBe('RESULT_INVALID')
  })

  it('fails the task run with INPUT_INVALID and a message naming the field when the input fails its schema', async () => {
    // A constant input is checked when the flow is validated; one that comes at run time, here.
    const detail = await t.engine.run(single('typed'), { input: { count: 'three' } })
    const error = detail.runs[0]?.error
    expect(error).toMatchObject({ code: 'INPUT_INVALID', retryable: false })
    expect(error?.message).toContain('input of task "only" (type "typed") is invalid: /count:')
    const ok = await t.engine.run(single('typed', { count: 2 }))
    expect(ok.runs[0]?.data).toEqual({ doubled: 4 })
  })

  it('rejects a flow with an unregistered task type before anything runs', async () => {
    const error: unknown = await t.engine.run(single('no-such-type')).catch((e: unknown) => e)
    expect(isFlowManagerError(error) && error.code).toBe('FLOW_INVALID')
    if (!isFlowManagerError(error)) return
    expect(error.issues).toEqual([expect.objectContaining({ code: 'UNKNOWN_TASK_TYPE', path: '/tasks/0/type' })])
    const page = await t.store.listExecutions({ limit: 100, flowId: 'only-no-such-type' })
    expect(page.items).toEqual([])
  })

  it('cancels an execution whose task never settles, and keeps running other executions', async () => {
    const started = await t.engine.start(single('stuck'))
    await stuckStarted.promise
    const meanwhile = await t.engine.run({ flow: single('noop').flow }, { input: { also: 'runs' } })
    expect(meanwhile.execution.status).toBe('completed')

    const cancelled = await t.engine.cancel(started.executionId, 'tired of waiting')
    expect(stuckSignal?.aborted).toBe(true)
    expect(cancelled.execution).toMatchObject({ status: 'cancelled', error: { code: 'EXECUTION_CANCELLED', message: 'tired of waiting' } })
    expect((await started.done).execution.status).toBe('cancelled')
    const stored = await t.engine.get(started.executionId)
    expect(stored?.execution).toMatchObject({ status: 'cancelled', currentTask: null })
    expect(stored?.execution.finishedAt).not.toBeNull()
    // The cut-off task run says why it ended.
    expect(stored?.runs.at(-1)?.error).toMatchObject({ code: 'EXECUTION_CANCELLED', message: 'tired of waiting' })
    expect(t.engine.running).toBe(0)

    const after = await t.engine.run(single('noop'))
    expect(after.execution.status).toBe('completed')
  })

  it('refuses to cancel an execution that has finished', async () => {
    const done = await t.engine.run(single('noop'))
    const error: unknown = await t.engine.cancel(done.execution.id).catch((e: unknown) => e)
    expect(isFlowManagerError(error) && error.code).toBe('EXECUTION_NOT_CANCELLABLE')
    expect((await t.engine.get(done.execution.id))?.execution.status).toBe('completed')
  })

  it('answers EXECUTION_NOT_FOUND for an id it never saw', async () => {
    const error: unknown = await t.engine.cancel('no-such-id').catch((e: unknown) => e)
    expect(isFlowManagerError(error) && error.code).toBe('EXECUTION_NOT_FOUND')
  })
})
