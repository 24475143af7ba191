import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ISO_UTC, SAMPLE_FLOW, startCompatServer, type CompatServer } from './compat-server.js'

/**
 * The checks a client of saurabhupadhyay2091/flow_manager (the FastAPI service of POST /run-flow
 * and GET /flows/{flow_run_id}) makes, against our server over HTTP: its README's two endpoints,
 * the flows its models accepted, and what it answered when a flow was wrong.
 */

let s: CompatServer
beforeAll(async () => {
  s = await startCompatServer()
})
afterAll(async () => {
  await s.close()
})

const runFlow = (body: unknown) => s.call('POST', '/run-flow', body)

describe('POST /run-flow and GET /flows/{id}, as the README describes them', () => {
  it('runs the flow and returns its status, flow_run_id and execution log', async () => {
    const result = await runFlow(SAMPLE_FLOW)
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ status: 'completed', flow_run_id: expect.any(String) })
    expect(result.body.execution_log.map((e: { task_name: string; success: boolean }) => [e.task_name, e.success])).toEqual([['task1', true], ['task2', true], ['task3', true]])
    for (const entry of result.body.execution_log) {
      expect(entry).toEqual({ task_run_id: expect.any(String), task_name: expect.any(String), success: true, data: expect.any(Object), result: { success: true, data: entry.data }, error: null })
    }
  })

  it('fetches the stored flow run: its status, and each task with its status, timestamps, output and error', async () => {
    const { body: run } = await runFlow(SAMPLE_FLOW)
    const stored = await s.call('GET', `/flows/${run.flow_run_id}`)
    expect(stored.status).toBe(200)
    expect(stored.body.flow_run).toEqual({ id: run.flow_run_id, flow_id: 'flow123', flow_name: 'Data processing flow', created_at: expect.stringMatching(ISO_UTC), status: 'completed' })
    expect(stored.body.tasks).toHaveLength(3)
    stored.body.tasks.forEach((t: Record<string, unknown>, i: number) => {
      expect(t).toEqual({
        id: run.execution_log[i].task_run_id,
        flow_run_id: run.flow_run_id,
        task_name: run.execution_log[i].task_name,
        started_at: expect.stringMatching(ISO_UTC),
        finished_at: expect.stringMatching(ISO_UTC),
        status: 'success',
        result: run.execution_log[i].result,
        error: null,
      })
    })
  })

  it('records a failed task as "failed", with its error, and the flow run as failed', async () => {
    const { body: run } = await runFlow({ ...SAMPLE_FLOW, input: { fail: ['task2'] } })
    expect(run.status).toBe('failed')
    expect(run.execution_log[1]).toMatchObject({ task_name: 'task2', success: false, error: expect.stringContaining('asked to fail') })
    const stored = await s.call('GET', `/flows/${run.flow_run_id}`)
    expect(stored.body.flow_run.status).toBe('failed')
    expect(stored.body.tasks[1]).toMatchObject({ status: 'failed', result: { success: false }, error: expect.stringContaining('asked to fail') })
  })
})

describe('the flows its models accepted', () => {
  it('takes a condition without outcome and target_task_failure as outcome "success" and failure to "end"', async () => {
    const conditions = SAMPLE_FLOW.flow.conditions.map(({ name, source_task, target_task_success }) => ({ name, source_task, target_task_success }))
    const result = await runFlow({ flow: { ...SAMPLE_FLOW.flow, conditions } })
    expect(result.body.status).toBe('completed')
    const failing = await runFlow({ flow: { ...SAMPLE_FLOW.flow, conditions }, input: { fail: ['task1'] } })
    expect(failing.body.execution_log.map((e: { task_name: string }) => e.task_name)).toEqual(['task1'])
  })

  it('fails task2 without data from task1, as its Task2 did', async () => {
    const result = await runFlow({ flow: { ...SAMPLE_FLOW.flow, start_task: 'task2' } })
    expect(result.body).toMatchObject({ status: 'failed', execution_log: [{ task_name: 'task2', success: false, error: expect.stringMatching(/^no data from task1/) }] })
  })

  it('fails a task that is not registered with 200 and the failed run, where it answered 500', async () => {
    const result = await runFlow({ flow: { ...SAMPLE_FLOW.flow, start_task: 'task9', tasks: [{ name: 'task9' }], conditions: [] } })
    expect(result.status).toBe(200)
    expect(result.body).toMatchObject({ status: 'failed', execution_log: [{ task_name: 'task9', success: false, error: expect.stringContaining('not registered') }] })
  })
})

describe('what it answered when a flow was wrong', () => {
  it('a start_task that names no task: 400 {"detail": "…"} from its own checks', async () => {
    const result = await runFlow({ flow: { ...SAMPLE_FLOW.flow, start_task: 'nope' } })
    expect(result.status).toBe(400)
    expect(result.body).toEqual({ detail: expect.stringContaining('start_task names unknown task "nope"') })
  })

  it('a missing field: 422 {"detail": [{type, loc, msg}]} from its model', async () => {
    const { start_task: _start, ...withoutStart } = SAMPLE_FLOW.flow
    const result = await runFlow({ flow: withoutStart })
    expect(result.status).toBe(422)
    expect(result.body.detail).toEqual([{ type: 'missing', loc: ['body', 'flow', 'start_task'], msg: expect.any(String) }])
  })

  it('a list of targets (its parallel branches): 422 naming the field; parallel groups are written differently here', async () => {
    const conditions = [{ ...SAMPLE_FLOW.flow.conditions[0], target_task_success: ['task2', 'task3'] }]
    const result = await runFlow({ flow: { ...SAMPLE_FLOW.flow, conditions } })
    expect(result.status).toBe(422)
    expect(result.body.detail).toEqual([expect.objectContaining({ loc: ['body', 'flow', 'conditions', 0, 'target_task_success'] })])
  })

  it('an unknown flow run: 404 {"detail"}', async () => {
    expect(await s.call('GET', '/flows/12345')).toMatchObject({ status: 404, body: { detail: expect.stringContaining('12345') } })
  })
})
