import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isFlowManagerError } from '../../src/core/errors.js'
import type { EngineEvent } from '../../src/engine/engine-events.js'
import { toExecutionView } from '../../src/engine/execution-view.js'
import { seedFlow } from '../fixtures/flows.js'
import { sqliteEngine, tempDir, type TestEngine } from '../fixtures/engine.js'

const dir = tempDir()
let t: TestEngine

beforeAll(async () => {
  t = await sqliteEngine(dir.path)
})
afterAll(async () => {
  await t.close()
  dir.remove()
})

const codeOf = async (promise: Promise<unknown>): Promise<string | undefined> => {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e)
  return isFlowManagerError(error) ? error.code : undefined
}

describe('engine idempotency and resume', () => {
  it('returns the same execution for a repeated idempotency key', async () => {
    const first = await t.engine.start({ flow: seedFlow() }, { idempotencyKey: 'order-42' })
    const firstDone = await first.done
    const again = await t.engine.start({ flow: seedFlow() }, { idempotencyKey: 'order-42' })
    expect(first.created).toBe(true)
    expect(again).toMatchObject({ executionId: first.executionId, created: false })
    expect((await again.done).execution).toEqual(firstDone.execution)
    expect((await t.store.findExecutionByIdempotencyKey('order-42'))?.id).toBe(first.executionId)
  })

  it('refuses an idempotency key reused with a different input or flow', async () => {
    await (await t.engine.start({ flow: seedFlow() }, { idempotencyKey: 'order-43' })).done
    expect(await codeOf(t.engine.start({ flow: seedFlow() }, { idempotencyKey: 'order-43', input: { fail: 'task1' } }))).toBe('IDEMPOTENCY_KEY_REUSED')
    const other = { flow: { ...seedFlow().flow, id: 'another-flow' } }
    expect(await codeOf(t.engine.start({ flow: other }, { idempotencyKey: 'order-43' }))).toBe('IDEMPOTENCY_KEY_REUSED')
  })

  it('returns one execution to two concurrent starts with the same idempotency key', async () => {
    const [a, b] = await Promise.all([
      t.engine.start({ flow: seedFlow() }, { idempotencyKey: 'race' }),
      t.engine.start({ flow: seedFlow() }, { idempotencyKey: 'race' }),
    ])
    expect(b.executionId).toBe(a.executionId)
    expect([a.created, b.created].sort()).toEqual([false, true])
    expect((await a.done).execution.status).toBe('completed')
    expect((await b.done).execution.id).toBe(a.executionId)
  })

  it('resumes a failed execution at its failed task with a new input and completes it', async () => {
    const failed = await t.engine.run({ flow: seedFlow() }, { input: { fail: ['task2'] } })
    expect(failed.execution).toMatchObject({ status: 'failed', failedTask: 'task2', steps: 2 })
    t.clock.advance(5_000)

    const resumed = await t.engine.resume(failed.execution.id, { input: { fail: [] } })
    expect(resumed.executionId).toBe(failed.execution.id)
    const detail = await resumed.done
    const view = toExecutionView(detail)
    expect(view).toMatchObject({ status: 'completed', failed_task: null, error: null, input: { fail: [] } })
    expect(view.task_results.map((r) => [r.task_name, r.status])).toEqual([
      ['task1', 'success'],
      ['task2', 'failure'],
      ['task2', 'success'],
      ['task3', 'success'],
    ])
    expect(detail.runs.map((r) => r.seq)).toEqual([1, 2, 3, 4])
    expect(detail.execution.startedAt).toBe(failed.execution.startedAt)
    expect(detail.execution.finishedAt).toBe(failed.execution.finishedAt! + 5_000)
    // task3 still sees task2's (new) records after the resume.
    expect(detail.runs[3]?.data).toEqual({ stored: [1, 2, 3], count: 3 })
    expect(await t.engine.get(failed.execution.id)).toMatchObject({ execution: { status: 'completed', steps: 4, stepBase: 2 } })
  })

  it('keeps the recorded input when a resume gives none', async () => {
    const failed = await t.engine.run({ flow: seedFlow() }, { input: { fail: 'task3' } })
    const again = await (await t.engine.resume(failed.execution.id)).done
    expect(again.execution).toMatchObject({ status: 'failed', failedTask: 'task3', input: { fail: 'task3' } })
  })

  it('refuses to resume a completed execution or an unknown id', async () => {
    const done = await t.engine.run({ flow: seedFlow() })
    expect(await codeOf(t.engine.resume(done.execution.id))).toBe('EXECUTION_NOT_RESUMABLE')
    expect(await codeOf(t.engine.resume('nope'))).toBe('EXECUTION_NOT_FOUND')
  })
})

describe('engine flow registry', () => {
  it('registers versions 1, 2, … of a flow id and runs the latest or a chosen one', async () => {
    const v1 = await t.engine.registerFlow(seedFlow())
    const v2 = await t.engine.registerFlow({ ...seedFlow().flow, conditions: [] })
    const v3 = await t.engine.registerFlow(seedFlow())
    expect([v1.version, v2.version, v3.version]).toEqual([1, 2, 3])
    expect(v3.definitionHash).toBe(v1.definitionHash)
    expect((await t.store.getFlow('flow123'))?.version).toBe(3)

    const latest = await t.engine.run({ flowId: 'flow123' })
    expect(latest.execution).toMatchObject({ flowVersion: 3, status: 'completed' })
    expect(latest.runs).toHaveLength(3)
    const second = await t.engine.run({ flowId: 'flow123', version: 2 })
    expect(second.execution.flowVersion).toBe(2)
    expect(second.runs.map((r) => r.taskName)).toEqual(['task1'])
  })

  it('refuses an invalid flow with FLOW_INVALID and its issues, registering nothing', async () => {
    const error: unknown = await t.engine.registerFlow({ ...seedFlow().flow, id: 'broken', start_task: 'nope' }).catch((e: unknown) => e)
    expect(isFlowManagerError(error) && error.code).toBe('FLOW_INVALID')
    if (isFlowManagerError(error)) expect(error.issues.map((i) => i.code)).toEqual(['UNKNOWN_START_TASK'])
    expect(await t.store.getFlow('broken')).toBeUndefined()
  })

  it('answers FLOW_NOT_FOUND for an unknown flow id or version', async () => {
    expect(await codeOf(t.engine.run({ flowId: 'unknown-flow' }))).toBe('FLOW_NOT_FOUND')
    expect(await codeOf(t.engine.run({ flowId: 'flow123', version: 99 }))).toBe('FLOW_NOT_FOUND')
  })
})

describe('engine events', () => {
  it('reports the start and end of the execution and of each task run, in order', async () => {
    const events: EngineEvent[] = []
    const stop = t.engine.subscribe((event) => {
      if (event.type !== 'logged') events.push(event)
    })
    const detail = await t.engine.run({ flow: seedFlow() }, { input: { fail: 'task2' } })
    stop()
    const mine = events.filter((e) => e.executionId === detail.execution.id)
    expect(mine.map((e) => (e.type === 'task_started' || e.type === 'task_finished' ? `${e.type}:${e.task}` : e.type))).toEqual([
      'execution_started',
      'task_started:task1',
      'task_finished:task1',
      'task_started:task2',
      'task_finished:task2',
      'execution_finished',
    ])
    expect(mine.at(-1)).toMatchObject({ type: 'execution_finished', status: 'failed', error: { code: 'TASK_FAILED' } })
    const before = events.length
    await t.engine.run({ flow: seedFlow() })
    expect(events).toHaveLength(before)
  })
})
