import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { isFlowManagerError } from '../../src/core/errors.js'
import { MAX_DELAY_MS } from '../../src/tasks/delay.js'
import { checkInput, createTaskRegistry, defineTask, inputJsonSchema } from '../../src/tasks/define-task.js'
import { noopTask } from '../../src/tasks/noop.js'
import { signal, sqliteEngine, tempDir, type TestEngine } from '../fixtures/engine.js'

const dir = tempDir()
let t: TestEngine
beforeAll(async () => {
  t = await sqliteEngine(dir.path)
})
afterAll(async () => {
  await t.close()
  dir.remove()
})

const single = (type: string, input: Record<string, unknown>): { flow: unknown } => ({
  flow: { id: type, name: type, start_task: 'only', tasks: [{ name: 'only', type, input }], conditions: [] },
})

describe('built-in task types', () => {
  it('noop succeeds and echoes its input', async () => {
    const detail = await t.engine.run(single('noop', { a: [1, { b: null }] }))
    expect(detail.runs[0]).toMatchObject({ status: 'success', data: { a: [1, { b: null }] } })
  })

  it('fail fails with input.message, or a default message', async () => {
    expect((await t.engine.run(single('fail', { message: 'as asked' }))).runs[0]?.error?.message).toBe('as asked')
    expect((await t.engine.run(single('fail', {}))).runs[0]?.error?.message).toBe('failed on purpose')
  })

  it('delay waits input.ms and reports it', async () => {
    const detail = await t.engine.run(single('delay', { ms: 1 }))
    expect(detail.runs[0]).toMatchObject({ status: 'success', data: { waited_ms: 1 } })
  })

  it('delay stops waiting when the execution is cancelled', async () => {
    const started = signal<string>()
    const stop = t.engine.subscribe((event) => {
      if (event.type === 'task_started') started.resolve(event.executionId)
    })
    const run = await t.engine.start(single('delay', { ms: MAX_DELAY_MS }))
    expect(await started.promise).toBe(run.executionId)
    stop()
    const cancelled = await t.engine.cancel(run.executionId)
    expect(cancelled.execution.status).toBe('cancelled')
    expect(cancelled.runs[0]?.status).toBe('failure')
  })

  it.each([{ ms: -1 }, { ms: MAX_DELAY_MS + 1 }, { ms: 1.5 }, {}])('delay refuses input %j: at validation when it is constant, with INPUT_INVALID when it comes at run time', async (input) => {
    expect(t.engine.validate(single('delay', input).flow)).toMatchObject({ ok: false, errors: [expect.objectContaining({ code: 'TASK_INPUT_INVALID' })] })
    const fromExecutionInput = { flow: { id: 'delay', name: 'delay', start_task: 'only', tasks: [{ name: 'only', type: 'delay' }], conditions: [] } }
    expect((await t.engine.run(fromExecutionInput, { input })).runs[0]?.error?.code).toBe('INPUT_INVALID')
  })

  it('the sample tasks fail every time with failure_rate 1 and never with 0', async () => {
    const flow = { flow: { id: 's', name: 'S', start_task: 'task1', tasks: [{ name: 'task1' }], conditions: [] } }
    expect((await t.engine.run(flow, { input: { failure_rate: 1 } })).runs[0]?.error?.message).toContain('failure_rate 1')
    expect((await t.engine.run(flow, { input: { failure_rate: 0 } })).execution.status).toBe('completed')
    expect((await t.engine.run(flow, { input: { failure_rate: 2 } })).runs[0]?.error?.code).toBe('INPUT_INVALID')
  })
})

describe('defineTask and the registry', () => {
  it('refuses a task type without a name or a run function', () => {
    expect(() => defineTask({ name: '', description: 'x', run: () => 1 })).toThrow(/non-empty name/)
    expect(() => defineTask({ name: 'x', description: 'x', run: undefined as never })).toThrow(/run\(input, context\)/)
  })

  it('refuses a task type registered twice with TASK_TYPE_DUPLICATE', () => {
    let error: unknown
    try {
      createTaskRegistry([noopTask, noopTask])
    } catch (e) {
      error = e
    }
    expect(isFlowManagerError(error) && error.code).toBe('TASK_TYPE_DUPLICATE')
  })

  it('lists and finds what it was given, nothing more', () => {
    const registry = createTaskRegistry([noopTask])
    expect(registry.names()).toEqual(['noop'])
    expect(registry.has('noop') && !registry.has('toString') && registry.get('constructor') === undefined).toBe(true)
  })

  it('checks input before run and names every bad field, with the task and its type', () => {
    const type = defineTask({ name: 'typed', description: 'x', input: z.object({ a: z.string(), b: z.number() }), run: () => 1 })
    const checked = checkInput(type, 'step', { a: 1 })
    expect(checked.ok).toBe(false)
    if (checked.ok) return
    expect(checked.failure).toMatchObject({ code: 'INPUT_INVALID', retryable: false })
    expect(checked.failure.message).toMatch(/^input of task "step" \(type "typed"\) is invalid: \/a: .*; \/b: /)
  })

  it('publishes an input schema as JSON Schema, or null when any input goes', () => {
    const type = defineTask({ name: 'typed', description: 'x', input: z.object({ a: z.string() }), run: () => 1 })
    expect(inputJsonSchema(type)).toMatchObject({ type: 'object', properties: { a: { type: 'string' } } })
    expect(inputJsonSchema(noopTask)).toBeNull()
  })
})
