import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../http/helpers.js'

/** Every example flow of the README's flow reference is valid and does what the README says, through the API. */

const example = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>

interface Run {
  readonly task_name: string
  readonly status: string
  readonly data: unknown
  readonly item_index: number | null
  readonly waiting_for: Record<string, unknown> | null
}
interface Execution {
  readonly execution_id: string
  readonly status: string
  readonly executed_tasks: string[]
  readonly task_results: Run[]
  readonly parent_execution_id: string | null
}

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(() => t.close())

const post = async <T = Execution>(url: string, payload: unknown): Promise<{ status: number; body: T }> => {
  const res = await t.app.inject({ method: 'POST', url, payload: payload as object })
  return { status: res.statusCode, body: res.json<T>() }
}
const last = (e: Execution, task: string): Run | undefined => e.task_results.findLast((r) => r.task_name === task && r.item_index === null)

describe('the example flows', () => {
  it.each(['parallel-flow.json', 'for-each-flow.json', 'wait-flow.json', 'approval-flow.json', 'subflow-child.json', 'subflow-parent.json'])('%s is valid, without warnings', async (name) => {
    const res = await post<{ valid: boolean; errors: unknown[]; warnings: unknown[] }>('/api/v1/flows/validate', example(name))
    expect(res.body).toMatchObject({ valid: true, errors: [], warnings: [] })
  })

  it('parallel-flow.json runs its three branches and accepts with the data of each', async () => {
    const res = await post('/api/v1/executions', { flow: example('parallel-flow.json'), input: { sku: 'X-1' } })
    expect(res.body.status).toBe('completed')
    expect(last(res.body, 'checks')?.data).toEqual({ credit: { waited_ms: 300 }, stock: { sku: 'X-1', reserved: true }, fraud: { score: 0.1 } })
    expect(res.body.executed_tasks.at(-1)).toBe('accept')
  })

  it('for-each-flow.json makes one invoice per order, in order, and sums them up', async () => {
    const res = await post('/api/v1/executions', { flow: example('for-each-flow.json'), input: example('for-each-input.json') })
    expect(res.body.status).toBe('completed')
    expect(last(res.body, 'invoices')?.data).toEqual([
      { order: 'A-1', position: 0, total: 12 },
      { order: 'A-2', position: 1, total: 30 },
      { order: 'A-3', position: 2, total: 48 },
    ])
    expect(last(res.body, 'summary')?.data).toEqual({ count: 3, first: 'A-1' })
  })

  it('wait-flow.json parks, then follows up', async () => {
    const res = await post('/api/v1/executions', { flow: example('wait-flow.json') })
    expect(res.body.status).toBe('completed')
    expect(res.body.executed_tasks).toEqual(['cool_off', 'follow_up'])
  })

  it('approval-flow.json waits for the approve signal and pays out, declines otherwise', async () => {
    for (const [payload, outcome] of [
      [{ approved: true, by: 'ana' }, 'pay_out'],
      [{ approved: false }, 'decline'],
      [null, 'decline'],
    ] as const) {
      const started = await post('/api/v1/executions', { flow: example('approval-flow.json'), input: { amount: 30 }, wait: false })
      expect((await post(`/api/v1/executions/${started.body.execution_id}/signals/approve`, payload)).status).toBe(202)
      const done = await t.engine.waitForEnd(started.body.execution_id)
      expect(done.execution.status).toBe('completed')
      expect(done.runs.at(-1)?.taskName).toBe(outcome)
    }
  })

  it('subflow-parent.json pays through the payment flow, run as its child', async () => {
    expect((await post('/api/v1/flows', example('subflow-child.json'))).status).toBe(201)
    expect((await post('/api/v1/flows', example('subflow-parent.json'))).status).toBe(201)
    const res = await post('/api/v1/executions', { flow_id: 'checkout', input: { items: ['book'], amount: 12 } })
    expect(res.body.status).toBe('completed')
    const pay = last(res.body, 'pay')
    const child = (pay?.data as { execution_id: string }).execution_id
    expect(pay?.data).toEqual({ execution_id: child, status: 'completed', results: { charge: { amount: 12, charged: true }, receipt: { sent_for: 12 } } })
    expect(last(res.body, 'confirm')?.data).toEqual({ payment: child, charged: true })
  })
})
