import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import type { ExecutionView } from '../../src/engine/execution-view.js'
import { buildApp } from '../../src/http/app.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import { tempDir } from '../fixtures/engine.js'

/** Each task run gets data of its own: what one task changes, nobody else sees. */

interface Shape {
  n: number
  list: string[]
  from?: { x?: number }
}

/** Changes everything it is given, and says what it saw first. */
const mutate = defineTask({
  name: 'mutate',
  description: 'Changes its input and tries to change the execution input.',
  run: (raw, context) => {
    const input = raw as Shape
    const seen = { n: input.n, list: input.list.length }
    input.n += 1
    input.list.push('changed')
    if (input.from !== undefined) input.from.x = 99
    let flowInputChanged = true
    try {
      ;(context.flowInput as Shape).n = 1000
    } catch {
      flowInputChanged = false
    }
    return { seen, flowInputChanged }
  },
})
const byInput = defineTask({
  name: 'by-input',
  description: 'Fails when input.mode is "fail".',
  run: (input) => {
    if ((input as { mode?: string }).mode === 'fail') throw new Error('failing as asked')
    return { mode: (input as { mode?: string }).mode }
  },
})

const dir = tempDir()
let store: Store
let engine: Engine
let app: FastifyInstance

beforeAll(async () => {
  store = await openSqliteStore({ path: `${dir.path}/own.db`, synchronous: 'NORMAL' })
  engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, mutate, byInput]) })
  app = await buildApp({ engine, logger: 'silent' })
  await app.ready()
})
afterAll(async () => {
  await app.close()
  await engine.close({ graceMs: 0 })
  await store.close()
  dir.remove()
})

const run = async (body: Record<string, unknown>): Promise<ExecutionView> => {
  const response = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: body })
  expect(response.statusCode).toBe(200)
  return response.json<ExecutionView>()
}

describe('data of its own for every task run', () => {
  it('gives every execution of a registered flow the same constant input, whatever an earlier run did to it', async () => {
    const flow = { id: 'mutating', name: 'Mutating', start_task: 'm', tasks: [{ name: 'm', type: 'mutate', input: { n: 10, list: [] } }], conditions: [] }
    expect((await app.inject({ method: 'POST', url: '/api/v1/flows', payload: flow })).statusCode).toBe(201)
    const seen = []
    for (let i = 0; i < 3; i++) seen.push((await run({ flow_id: 'mutating' })).task_results[0]?.data)
    expect(seen).toEqual([0, 1, 2].map(() => ({ seen: { n: 10, list: 0 }, flowInputChanged: false })))
  })

  it("leaves the execution's own input as it was stored when a task changes what was mapped from it", async () => {
    const flow = {
      id: 'mapped',
      name: 'Mapped',
      start_task: 'm',
      tasks: [
        { name: 'm', type: 'mutate', input: { n: '${input.n}', list: '${input.list}', from: '${input.from}' } },
        { name: 'again', type: 'mutate', input: { n: '${input.n}', list: '${input.list}', from: '${input.from}' } },
      ],
      conditions: [{ name: 'next', source_task: 'm', outcome: 'success', target_task_success: 'again', target_task_failure: 'end' }],
    }
    const input = { n: 5, list: ['a'], from: { x: 1 } }
    const execution = await run({ flow, input })
    // The second task saw what the first saw: the first changed only its own copy.
    expect(execution.task_results.map((r) => r.data)).toEqual([0, 1].map(() => ({ seen: { n: 5, list: 1 }, flowInputChanged: false })))
    expect(execution.input).toEqual(input)
    const read = (await app.inject({ method: 'GET', url: `/api/v1/executions/${execution.execution_id}` })).json<ExecutionView>()
    expect(read.input).toEqual(input)
  })
})

describe('resume with a new input', () => {
  const flow = { id: 'by-input', name: 'By input', start_task: 'work', tasks: [{ name: 'work', type: 'by-input', input: { mode: '${input.mode}' } }], conditions: [] }

  it('records the new input: the answer, a later read and the event log show it', async () => {
    const failed = await run({ flow, input: { mode: 'fail' } })
    expect(failed.status).toBe('failed')
    const resumed = await app.inject({ method: 'POST', url: `/api/v1/executions/${failed.execution_id}/resume`, payload: { input: { mode: 'ok' } } })
    expect(resumed.statusCode).toBe(200)
    expect(resumed.json<ExecutionView>()).toMatchObject({ status: 'completed', input: { mode: 'ok' } })
    expect(resumed.json<ExecutionView>().task_results.at(-1)?.data).toEqual({ mode: 'ok' })
    const read = (await app.inject({ method: 'GET', url: `/api/v1/executions/${failed.execution_id}` })).json<ExecutionView>()
    expect(read.input).toEqual({ mode: 'ok' })
    expect((await store.getExecutionRecord(failed.execution_id))?.input).toEqual({ mode: 'ok' })
    const resumedEvent = (await store.listEvents(failed.execution_id, 0, 100)).find((e) => e.type === 'execution_resumed')
    expect(resumedEvent?.data).toMatchObject({ reason: 'resume', input_replaced: true })
  })
})
