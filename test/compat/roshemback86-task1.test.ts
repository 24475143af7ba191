import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ISO_UTC, SAMPLE_FLOW, startCompatServer, type CompatServer } from './compat-server.js'

/**
 * The checks of roshemback86/task1's own clients, against our server over HTTP: scripts/test_client.py
 * (`test` and `stress`), scripts/validation_examples.py (`api`, and its flows sent to the API), the
 * cases of its tests/ that its API exposes, and its README's example flow.
 */

let s: CompatServer
beforeAll(async () => {
  s = await startCompatServer()
})
afterAll(async () => {
  await s.close()
})

const task = (name: string, description: string): Record<string, string> => ({ name, description })
const condition = (name: string, source: string, onSuccess: string, onFailure = 'end', outcome = 'success'): Record<string, string> => ({
  name, description: '', source_task: source, outcome, target_task_success: onSuccess, target_task_failure: onFailure,
})
const register = (flow: unknown) => s.call('POST', '/flows', { flow_data: flow })

/** The flow validation_examples.py registers through the API; no registry has these task names. */
const ORDER_PROCESSING = {
  flow: {
    id: 'order_processing',
    name: 'Order Processing Flow',
    start_task: 'validate_order',
    tasks: [task('validate_order', 'Validate customer order'), task('check_inventory', 'Check product availability'), task('process_payment', 'Process payment'), task('ship_order', 'Ship the order')],
    conditions: [
      condition('order_validation_check', 'validate_order', 'check_inventory'),
      condition('inventory_check', 'check_inventory', 'process_payment'),
      condition('payment_check', 'process_payment', 'ship_order'),
    ],
  },
}

describe('scripts/test_client.py test', () => {
  it('checks health, creates flow123, reads it, executes it with a context and reads the execution', async () => {
    expect((await s.call('GET', '/health')).status).toBe(200)

    const created = await register(SAMPLE_FLOW)
    expect(created.status).toBe(201)
    expect(created.body.message).toBe('Flow flow123 created successfully')

    const flow = await s.call('GET', '/flows/flow123')
    expect(flow.status).toBe(200)
    expect(flow.body.name).toBe('Data processing flow')
    expect(flow.body.tasks.map((t: { name: string }) => t.name)).toEqual(['task1', 'task2', 'task3'])

    const executed = await s.call('POST', '/flows/execute', { flow_id: 'flow123', context: { user_id: 'tester' } })
    expect(executed.status).toBe(200)
    expect(executed.body).toMatchObject({ execution_id: expect.any(String), flow_id: 'flow123', status: 'completed', current_task: 'end', start_time: expect.stringMatching(ISO_UTC), end_time: expect.stringMatching(ISO_UTC) })
    // The context as that service left it: the input, and each task's data as <task>_result.
    expect(executed.body.context).toMatchObject({ user_id: 'tester', task1_result: { count: 3 }, task2_result: { count: 3 }, task3_result: { count: 3 } })

    const execution = await s.call('GET', `/executions/${executed.body.execution_id}`)
    expect(execution.status).toBe(200)
    expect(execution.body).toEqual(executed.body)
    expect(Object.keys(execution.body.task_results)).toEqual(['task1', 'task2', 'task3'])
    for (const result of Object.values<{ status: string; execution_time: unknown; data: unknown; error: unknown }>(execution.body.task_results)) {
      // The client prints f"{task['execution_time']:.3f}s": a number, never null.
      expect(result).toEqual({ status: 'success', execution_time: expect.any(Number), data: expect.any(Object), error: null })
    }
  })
})

describe('scripts/test_client.py stress', () => {
  it('runs flow123 five times, each execution readable and completed', async () => {
    expect((await register(SAMPLE_FLOW)).status).toBe(201)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const run = await s.call('POST', '/flows/execute', { flow_id: 'flow123', context: { run_id: `run_${i}` } })
      expect(run.status).toBe(200)
      ids.push(run.body.execution_id)
    }
    expect(new Set(ids).size).toBe(5)
    for (const id of ids) expect((await s.call('GET', `/executions/${id}`)).body.status).toBe('completed')
  })
})

describe('scripts/validation_examples.py api', () => {
  it('registers order_processing, whose task names no registry has, with 201 and a message', async () => {
    const created = await register(ORDER_PROCESSING)
    expect(created.status).toBe(201)
    expect(created.body.message).toEqual(expect.any(String))
  })

  it('refuses a flow with an empty id and no tasks with 400', async () => {
    const refused = await register({ flow: { id: '', name: 'Bad Flow', start_task: 'task1', tasks: [], conditions: [] } })
    expect(refused.status).toBe(400)
    expect(refused.body.detail).toMatch(/^Flow validation error: /)
  })

  it('refuses a context that is not a dictionary with 422', async () => {
    const refused = await s.call('POST', '/flows/execute', { flow_id: 'order_processing', context: 'not a dict' })
    expect(refused.status).toBe(422)
    expect(refused.body.detail).toEqual([expect.objectContaining({ loc: ['body', 'context'], msg: expect.stringContaining('dictionary') })])
  })
})

describe('the invalid flows of validation_examples.py and tests/test_flow_validator.py, sent to POST /flows', () => {
  const valid = SAMPLE_FLOW.flow
  it.each([
    ["missing required field 'name'", { id: 'test_flow', start_task: 'task1', tasks: [task('task1', 'Task 1')], conditions: [] }, '/flow_data/flow/name'],
    ['duplicate task names', { ...valid, tasks: [task('task1', 'First task'), task('task1', 'Duplicate task')], conditions: [] }, '/flow_data/flow/tasks/1/name'],
    ['a condition with an unknown source task', { ...valid, tasks: [task('task1', 'Task')], conditions: [condition('cond', 'nonexistent', 'task1')] }, '/flow_data/flow/conditions/0/source_task'],
    ['a condition routing to a missing task', { ...valid, tasks: [task('task1', 'Task 1')], conditions: [condition('bad_cond', 'task1', 'task_missing')] }, '/flow_data/flow/conditions/0/target_task_success'],
    ["an outcome other than 'success' or 'failure'", { ...valid, tasks: [task('task1', 'Task')], conditions: [condition('cond', 'task1', 'end', 'end', 'maybe')] }, '/flow_data/flow/conditions/0/outcome'],
    ['an unknown start_task', { ...valid, start_task: 'nonexistent_task', tasks: [task('task1', 'Task')], conditions: [] }, '/flow_data/flow/start_task'],
  ])('refuses %s with 400 "Flow validation error: …" naming where', async (_what, flow, path) => {
    const refused = await register({ flow })
    expect(refused.status).toBe(400)
    expect(refused.body).toEqual({ detail: expect.stringMatching(/^Flow validation error: /) })
    expect(refused.body.detail).toContain(path)
  })

  it('refuses a flow whose conditions form a cycle, as tests/test_flow_validator_logic.py test_cycle_detection expects', async () => {
    const cyclic = { flow: { id: 'cyclic', name: 'Cycle', start_task: 'task1', tasks: [task('task1', 't1'), task('task2', 't2')], conditions: [condition('c1', 'task1', 'task2'), condition('c2', 'task2', 'task1')] } }
    const refused = await register(cyclic)
    expect(refused.status).toBe(400)
    expect(refused.body.detail).toMatch(/^Flow validation error: .*cycle in task transitions: task1 → task2 → task1/)
    expect((await s.call('GET', '/flows/cyclic')).status).toBe(404)
  })

  it('registers a flow with unreachable tasks (that service only printed a warning)', async () => {
    const flow = { flow: { id: 'unreachable', name: 'Unreachable', start_task: 'task1', tasks: [task('task1', 'reachable'), task('task2', 'unreachable'), task('task3', 'also unreachable')], conditions: [condition('c', 'task1', 'end')] } }
    expect((await register(flow)).status).toBe(201)
  })

  it('answers a request of the wrong shape with FastAPI\'s 422 {"detail": [...]}', async () => {
    const noFlowId = await s.call('POST', '/flows/execute', { context: {} })
    expect(noFlowId.status).toBe(422)
    expect(noFlowId.body.detail).toEqual([{ type: 'missing', loc: ['body', 'flow_id'], msg: expect.stringContaining('Field required') }])
    expect((await s.call('POST', '/flows', [])).status).toBe(422)
    expect((await s.call('POST', '/flows', { flow_data: 'x' })).body.detail[0].loc).toEqual(['body', 'flow_data'])
    const notJson = await s.call('POST', '/flows', '{"flow_data": ')
    expect(notJson.status).toBe(422)
    expect(notJson.body.detail[0].type).toBe('json_invalid')
  })
})

describe('tests/test_flows.py, through the API', () => {
  it('stops at a failing task: status failed, task2 never ran', async () => {
    expect((await register(SAMPLE_FLOW)).status).toBe(201)
    const run = await s.call('POST', '/flows/execute', { flow_id: 'flow123', context: { fail: ['task1'] } })
    expect(run.status).toBe(200)
    expect(run.body.status).toBe('failed')
    expect(run.body.task_results.task1).toMatchObject({ status: 'failure', error: expect.stringContaining('asked to fail') })
    expect(run.body.task_results.task2).toBeUndefined()
  })

  it('completes when a failure is routed to a task that recovers', async () => {
    const flow = { flow: { id: 'fail_recover_flow', name: 'Failure with recovery', start_task: 'task1', tasks: [task('task1', 'Fails'), { name: 'recover', description: 'Recovery path', type: 'noop' }], conditions: [condition('c', 'task1', 'end', 'recover')] } }
    expect((await register(flow)).status).toBe(201)
    const run = await s.call('POST', '/flows/execute', { flow_id: 'fail_recover_flow', context: { fail: ['task1'] } })
    expect(run.body).toMatchObject({ status: 'completed', task_results: { task1: { status: 'failure' }, recover: { status: 'success' } } })
  })

  it('fails a task whose name no task type has, with a 200 and the failed run (that service pretended it ran)', async () => {
    const run = await s.call('POST', '/flows/execute', { flow_id: 'order_processing', context: {} })
    expect(run.status).toBe(200)
    expect(run.body).toMatchObject({ status: 'failed', task_results: { validate_order: { status: 'failure', error: expect.stringContaining('"validate_order" is not registered') } } })
  })
})

describe('the README', () => {
  it('registers its example flow and runs it; its first task, unregistered here, fails the run', async () => {
    const example = { flow: { ...ORDER_PROCESSING.flow, id: 'readme_order_processing', conditions: [{ name: 'validation_passed', source_task: 'validate_order', outcome: 'success', target_task_success: 'check_inventory', target_task_failure: 'end' }] } }
    expect((await register(example)).status).toBe(201)
    const run = await s.call('POST', '/flows/execute', { flow_id: 'readme_order_processing' })
    expect(run.body).toMatchObject({ status: 'failed', current_task: 'end' })
  })

  it('answers unknown flows and executions with 404 {"detail"}', async () => {
    const flow = await s.call('POST', '/flows/execute', { flow_id: 'nope', context: {} })
    expect(flow.status).toBe(404)
    expect(flow.body).toEqual({ detail: expect.stringContaining('nope') })
    expect(await s.call('GET', '/flows/nope')).toMatchObject({ status: 404, body: { detail: expect.any(String) } })
    expect(await s.call('GET', '/executions/nope')).toMatchObject({ status: 404, body: { detail: 'Execution not found' } })
  })
})
