import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toExecutionView } from '../../src/engine/execution-view.js'
import { defineTask, type TaskContext } from '../../src/tasks/define-task.js'
import { seedFlow } from '../fixtures/flows.js'
import { sqliteEngine, tempDir, type TestEngine } from '../fixtures/engine.js'

const dir = tempDir()
const contexts: TaskContext[] = []
const spy = defineTask({
  name: 'spy',
  description: 'records its context',
  run: (input, context) => {
    contexts.push(context)
    return { input, flowInput: context.flowInput }
  },
})
let t: TestEngine

beforeAll(async () => {
  t = await sqliteEngine(dir.path, [spy])
})
afterAll(async () => {
  await t.close()
  dir.remove()
})

const cond = (name: string, source: string, outcome: string, onMatch: string, otherwise: string): Record<string, string> => ({
  name, source_task: source, outcome, target_task_success: onMatch, target_task_failure: otherwise,
})

describe('the engine on the seed flow (SQLite)', () => {
  it('completes with task1, task2, task3 and every task run recorded', async () => {
    const detail = await t.engine.run({ flow: seedFlow() })
    const view = toExecutionView(detail)
    expect(view).toMatchObject({ status: 'completed', flow_id: 'flow123', executed_tasks: ['task1', 'task2', 'task3'], failed_task: null, error: null })
    expect(view.task_results.map((r) => [r.task_name, r.status, r.next_task])).toEqual([
      ['task1', 'success', 'task2'],
      ['task2', 'success', 'task3'],
      ['task3', 'success', null],
    ])
    expect(await t.engine.get(detail.execution.id)).toEqual(detail)
  })

  it('shows each task the results of earlier tasks by name', async () => {
    const { runs } = await t.engine.run({ flow: seedFlow() })
    expect(runs[0]?.data).toMatchObject({ count: 3 })
    expect(runs[1]?.data).toMatchObject({ count: 3, records: [{ id: 1, value: 'RECORD-1', processed: true }, { id: 2 }, { id: 3 }] })
    expect(runs[2]?.data).toEqual({ stored: [1, 2, 3], count: 3 })
  })

  it.each([
    [['task1'], ['task1'], 'task1'],
    [['task2'], ['task1', 'task2'], 'task2'],
    ['task3', ['task1', 'task2', 'task3'], 'task3'],
  ])('fails at the task named by input {"fail": %j}', async (fail, executed, failedTask) => {
    const detail = await t.engine.run({ flow: seedFlow() }, { input: { fail } })
    const view = toExecutionView(detail)
    expect(view).toMatchObject({ status: 'failed', executed_tasks: executed, failed_task: failedTask, error: { code: 'TASK_FAILED' } })
    expect(view.task_results.at(-1)).toMatchObject({ status: 'failure', error: expect.stringContaining(`"fail" names task "${failedTask}"`) })
  })

  it('fails task2 when the flow starts there, naming task1 as the missing upstream', async () => {
    const detail = await t.engine.run({ flow: { ...seedFlow().flow, start_task: 'task2' } })
    const view = toExecutionView(detail)
    expect(view).toMatchObject({ status: 'failed', executed_tasks: ['task2'], failed_task: 'task2' })
    expect(view.task_results[0]?.error).toMatch(/^no data from task1: .*task1 has not run in this execution/)
    expect(detail.runs[0]?.error).toMatchObject({ retryable: false })
  })

  it('fails task3 when it is reached after task2 failed', async () => {
    const flow = { ...seedFlow().flow, conditions: [cond('c1', 'task1', 'success', 'task2', 'end'), cond('c2', 'task2', 'success', 'task3', 'task3')] }
    const view = toExecutionView(await t.engine.run({ flow }, { input: { fail: ['task2'] } }))
    expect(view).toMatchObject({ status: 'failed', executed_tasks: ['task1', 'task2', 'task3'], failed_task: 'task3' })
    expect(view.task_results[2]?.error).toMatch(/^no data from task2: .*task2 failed in this execution/)
  })

  it('completes when a failure is routed to a recovery task that succeeds', async () => {
    const flow = { ...seedFlow().flow, tasks: [...(seedFlow().flow.tasks as object[]), { name: 'recover', type: 'noop' }],
      conditions: [cond('c1', 'task1', 'success', 'task2', 'recover')] }
    const detail = await t.engine.run({ flow }, { input: { fail: ['task1'] } })
    expect(toExecutionView(detail)).toMatchObject({ status: 'completed', executed_tasks: ['task1', 'recover'], failed_task: null })
  })

  it('routes on outcome "failure": a failing task goes to target_task_success', async () => {
    const flow = { ...seedFlow().flow, conditions: [cond('c1', 'task1', 'failure', 'task3', 'task2')] }
    expect(toExecutionView(await t.engine.run({ flow }, { input: { fail: 'task1' } })).executed_tasks).toEqual(['task1', 'task3'])
    expect(toExecutionView(await t.engine.run({ flow })).executed_tasks).toEqual(['task1', 'task2'])
  })

  it('ends the flow after a task without a condition', async () => {
    const flow = { ...seedFlow().flow, conditions: [] }
    expect(toExecutionView(await t.engine.run({ flow }))).toMatchObject({ status: 'completed', executed_tasks: ['task1'] })
    expect(toExecutionView(await t.engine.run({ flow }, { input: { fail: 'task1' } }))).toMatchObject({ status: 'failed', failed_task: 'task1' })
  })

  it('fails a loop at max_steps with STEP_LIMIT_EXCEEDED and no failed task', async () => {
    const flow = { ...seedFlow().flow, max_steps: 4, conditions: [cond('c1', 'task1', 'success', 'task2', 'end'), cond('c2', 'task2', 'success', 'task1', 'end')] }
    const view = toExecutionView(await t.engine.run({ flow }))
    expect(view).toMatchObject({ status: 'failed', failed_task: null, error: { code: 'STEP_LIMIT_EXCEEDED' } })
    expect(view.executed_tasks).toEqual(['task1', 'task2', 'task1', 'task2'])
  })

  it('gives a task its own input, or the execution input when it declares none, and a full context', async () => {
    contexts.length = 0
    const flow = { id: 'ctx', name: 'Context', start_task: 'a', tasks: [{ name: 'a', type: 'spy', input: { own: 1 } }, { name: 'b', type: 'spy' }],
      conditions: [cond('c', 'a', 'success', 'b', 'end')] }
    const detail = await t.engine.run({ flow }, { input: { shared: true } })
    expect(detail.runs.map((r) => r.data)).toEqual([{ input: { own: 1 }, flowInput: { shared: true } }, { input: { shared: true }, flowInput: { shared: true } }])
    const [a, b] = contexts
    expect(a).toMatchObject({ executionId: detail.execution.id, flowId: 'ctx', taskName: 'a', attempt: 1, idempotencyKey: `${detail.execution.id}:a:1` })
    expect(b?.results.a).toEqual({ status: 'success', data: { input: { own: 1 }, flowInput: { shared: true } }, error: null })
    expect(b?.signal.aborted).toBe(false)
    expect(typeof b?.logger.info).toBe('function')
  })

  it('runs a flow whose tasks are named __proto__ and constructor', async () => {
    const flow = JSON.parse('{"id":"p","name":"P","start_task":"__proto__","tasks":[{"name":"__proto__","type":"noop","input":{"__proto__":{"polluted":true}}},{"name":"constructor","type":"spy"}],"conditions":[{"name":"c","source_task":"__proto__","outcome":"success","target_task_success":"constructor","target_task_failure":"end"}]}')
    contexts.length = 0
    const detail = await t.engine.run({ flow })
    expect(toExecutionView(detail)).toMatchObject({ status: 'completed', executed_tasks: ['__proto__', 'constructor'] })
    expect(Object.hasOwn(contexts[0]!.results, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
