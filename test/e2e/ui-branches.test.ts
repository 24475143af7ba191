import type { Browser, Locator, Page, Route } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineTask } from '../../src/tasks/define-task.js'
import { SEED } from '../http/helpers.js'
import { artifactPath, boxOf, browserAvailable, ensureUiBuilt, launchChromium, pagePerTest, startUiServer, type Box, type UiServer } from './ui-harness.js'

/** What the UI shows of branches and waits: groups as boxes, the timeline, retries, signals, sub-flows, resumes. */

/** Gates the test opens by name: a task run of type `gate` with input {"gate": name} runs until then. */
const gates = new Map<string, { open: () => void; opened: Promise<void> }>()
const gateNamed = (name: string): { open: () => void; opened: Promise<void> } => {
  let entry = gates.get(name)
  if (entry === undefined) {
    let open!: () => void
    const opened = new Promise<void>((resolve) => (open = resolve))
    gates.set(name, (entry = { open, opened }))
  }
  return entry
}
const gate = defineTask({
  name: 'gate',
  description: 'Runs until the end-to-end test opens the gate named by input.gate.',
  run: async (input: unknown) => {
    await gateNamed(String((input as { gate?: unknown }).gate)).opened
    return { opened: true }
  },
})

/** A group of two branches, the first two tasks long, both held by gates; then a for_each over three items. */
const FAN = {
  id: 'fan',
  name: 'Fan out',
  start_task: 'fan',
  tasks: [
    { name: 'fan', parallel: ['left', 'right'] },
    { name: 'left', type: 'gate', input: { gate: 'left' } },
    { name: 'left_after', type: 'noop' },
    { name: 'right', type: 'gate', input: { gate: 'right' } },
    { name: 'each', type: 'noop', for_each: '[10, 20, 30]', input: { n: '${item}' } },
  ],
  conditions: [
    { name: 'after_left', source_task: 'left', outcome: 'success', target_task_success: 'left_after', target_task_failure: 'end' },
    { name: 'after_fan', source_task: 'fan', outcome: 'success', target_task_success: 'each', target_task_failure: 'end' },
  ],
}
const RETRYING = {
  id: 'retrying',
  name: 'Retrying',
  start_task: 'flaky',
  tasks: [{ name: 'flaky', type: 'fail', input: { message: 'the service is down' }, retry: { max_attempts: 4, backoff_ms: 60_000 } }],
  conditions: [],
}
const APPROVAL = {
  id: 'approval',
  name: 'Approval',
  start_task: 'approve',
  tasks: [
    { name: 'approve', type: 'wait_for_signal', input: { signal: 'approval', timeout_ms: 3_600_000 } },
    { name: 'record', type: 'noop' },
  ],
  conditions: [{ name: 'after_approve', source_task: 'approve', outcome: 'success', target_task_success: 'record', target_task_failure: 'end' }],
}
/** Three items, two at a time, each held by its own gate. */
const ITEMS = {
  id: 'items',
  name: 'Items',
  start_task: 'each',
  tasks: [{ name: 'each', type: 'gate', for_each: '[1, 2, 3]', max_concurrency: 2, input: { gate: 'item-${item}' } }],
  conditions: [],
}
const CHILD = { id: 'child', name: 'Child', start_task: 'work', tasks: [{ name: 'work', type: 'noop' }], conditions: [] }
const PARENT = { id: 'parent', name: 'Parent', start_task: 'call', tasks: [{ name: 'call', type: 'subflow', input: { flow_id: 'child' } }], conditions: [] }

let browser: Browser
let server: UiServer
let page: Page
const available = browserAvailable()

beforeAll(async () => {
  if (!available) return
  await ensureUiBuilt()
  ;[browser, server] = await Promise.all([launchChromium(), startUiServer({ tasks: [gate] })])
  for (const flow of [FAN, ITEMS, RETRYING, APPROVAL, CHILD, PARENT, SEED]) await server.engine.registerFlow(flow)
}, 120_000)
afterAll(async () => {
  for (const entry of gates.values()) entry.open()
  await browser?.close()
  await server?.close()
})
pagePerTest(
  () => browser,
  (p) => {
    page = p
  },
)

const inside = (a: Box, outer: Box): boolean => a.x >= outer.x - 0.5 && a.y >= outer.y - 0.5 && a.x + a.width <= outer.x + outer.width + 0.5 && a.y + a.height <= outer.y + outer.height + 0.5
const node = (task: string): Locator => page.locator(`.fm-node[data-task="${task}"]`)

describe.skipIf(!available)('branches and waits in the web UI', () => {
  it('draws a group as a box around its branches, side by side and live, and its timeline with overlapping bars', async () => {
    const { executionId } = await server.engine.start({ flowId: 'fan' })
    await page.goto(`${server.url}/ui/executions/${executionId}`)
    await page.locator('.fm-graph[data-ready]').waitFor()
    await node('left').and(page.locator('[data-state="running"]')).waitFor()
    await node('right').and(page.locator('[data-state="running"]')).waitFor()
    const box = await boxOf(page.locator('.fm-group[data-group="fan"]'))
    const left = await boxOf(node('left'))
    const right = await boxOf(node('right'))
    const after = await boxOf(node('left_after'))
    for (const task of [left, right, after]) expect(inside(task, box)).toBe(true)
    // The branches' first tasks side by side, the second task of a branch below its first.
    expect(Math.abs(left.y - right.y)).toBeLessThan(1)
    expect(left.x + left.width <= right.x || right.x + right.width <= left.x).toBe(true)
    expect(after.y).toBeGreaterThan(left.y + left.height)
    expect(inside(await boxOf(node('each')), box)).toBe(false)
    await page.locator('.fm-group[data-group="fan"][data-state="running"]').waitFor()

    await page.getByRole('tab', { name: 'Timeline' }).click()
    await expect.poll(() => new URL(page.url()).searchParams.get('view')).toBe('timeline')
    const bar = (task: string): Locator => page.locator(`.fm-waterfall .fm-bar[data-task="${task}"]`)
    await bar('left').waitFor()
    // Both branches run at once: their bars cover the same stretch of time.
    const a = await boxOf(bar('left'))
    const b = await boxOf(bar('right'))
    expect(a.x < b.x + b.width && b.x < a.x + a.width).toBe(true)
    expect(Math.abs(a.y - b.y)).toBeGreaterThan(10)
    // Their rows are nested under the group's row.
    const depth = (task: string) => page.locator(`.fm-wf-row[data-task="${task}"]`).first().getAttribute('data-depth')
    expect(await depth('fan')).toBe('0')
    expect(Number(await depth('left'))).toBeGreaterThan(0)
    expect(Number(await depth('right'))).toBeGreaterThan(0)
    await page.screenshot({ path: artifactPath('timeline-group-running.png') })

    gateNamed('left').open()
    gateNamed('right').open()
    await page.locator('.fm-execution[data-status="completed"]').waitFor()
    // The for_each task's item runs sit under its row, and the row tells the progress.
    await page.locator('.fm-wf-row[data-task="each"] .fm-wf-items').getByText('3/3 items').waitFor()
    expect(await page.locator('.fm-wf-row.kind-item').count()).toBe(3)
    await page.getByRole('tab', { name: 'Graph' }).click()
    await page.locator('.fm-graph[data-ready]').waitFor()
    await node('each').locator('.fm-node-detail').getByText('3/3 items').waitFor()
    for (const task of ['left', 'right', 'left_after', 'each']) await node(task).and(page.locator('[data-state="succeeded"]')).waitFor()
  })

  it('counts a for_each task\'s items on its node as they run, out of the total the log told', async () => {
    const { executionId } = await server.engine.start({ flowId: 'items' })
    await page.goto(`${server.url}/ui/executions/${executionId}`)
    const detail = node('each').locator('.fm-node-detail')
    await detail.getByText('0/3 items · 2 running').waitFor()
    gateNamed('item-1').open()
    await detail.getByText('1/3 items · 2 running').waitFor()
    gateNamed('item-2').open()
    gateNamed('item-3').open()
    await detail.getByText('3/3 items').waitFor()
    await node('each').and(page.locator('[data-state="succeeded"]')).waitFor()
  })

  it('reads the runs an execution\'s answer leaves out page by page, and draws only the timeline rows in view', async () => {
    const many = { id: 'many-items', name: 'Many items', start_task: 'each', tasks: [{ name: 'each', type: 'noop', for_each: 'input.items', max_concurrency: 100, input: { n: '${item}' } }], conditions: [] }
    await server.engine.registerFlow(many)
    const done = await server.engine.run({ flowId: 'many-items' }, { input: { items: Array.from({ length: 1200 }, (_, i) => i) } })
    expect(done.execution.status).toBe('completed')
    const pages: string[] = []
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('/task-runs')) pages.push(request.url())
    })
    await page.goto(`${server.url}/ui/executions/${done.execution.id}?view=timeline`)
    // The answer holds the latest 1,000 runs; the other 201 are read with GET …/task-runs.
    await page.locator('.fm-wf-head').getByText('1201 task runs', { exact: true }).waitFor()
    expect(pages.length).toBeGreaterThan(0)
    const row = page.locator('.fm-wf-row[data-task="each"]').first()
    await row.locator('.fm-wf-items').getByText('1200/1200 items').waitFor()
    // Folded at first (more than 50 items); unfolded, 1,200 rows exist but only a screenful is drawn.
    expect(await page.locator('.fm-wf-row.kind-item').count()).toBe(0)
    await page.getByRole('button', { name: 'Unfold each' }).click()
    await page.locator('.fm-wf-row[data-row="each/#0"]').waitFor()
    expect(Number(await page.locator('.fm-waterfall').getAttribute('data-rows'))).toBe(1201)
    expect(await page.locator('.fm-wf-row').count()).toBeLessThan(100)
    await page.evaluate("document.querySelector('.fm-wf-scroll').scrollTop = 1e9")
    await page.locator('.fm-wf-row[data-row="each/#1199"]').waitFor()
    expect(await page.locator('.fm-wf-row[data-row="each/#0"]').count()).toBe(0)
  })

  it('draws groups as boxes in a graph too large for ELK, nested groups inside their branch', async () => {
    // 130 tasks in a chain, then a group whose second branch holds a group of its own.
    const chain = Array.from({ length: 130 }, (_, i) => `step${i}`)
    const big = {
      id: 'big-fan',
      name: 'Big fan',
      start_task: 'step0',
      tasks: [
        ...chain.map((name) => ({ name, type: 'noop' })),
        { name: 'outer', parallel: ['o1', 'o2'] },
        { name: 'o1', type: 'noop' },
        { name: 'o2', type: 'noop' },
        { name: 'inner', parallel: ['i1', 'i2'] },
        { name: 'i1', type: 'noop' },
        { name: 'i2', type: 'noop' },
      ],
      conditions: [
        ...chain.slice(0, -1).map((name, i) => ({ name: `c${i}`, source_task: name, outcome: 'success', target_task_success: chain[i + 1], target_task_failure: 'end' })),
        { name: 'to_outer', source_task: 'step129', outcome: 'success', target_task_success: 'outer', target_task_failure: 'end' },
        { name: 'to_inner', source_task: 'o2', outcome: 'success', target_task_success: 'inner', target_task_failure: 'end' },
      ],
    }
    await server.engine.registerFlow(big)
    await page.goto(`${server.url}/ui/flows/big-fan`)
    await page.locator('.fm-graph[data-ready]').waitFor()
    expect(Number(await page.locator('.fm-graph').getAttribute('data-nodes'))).toBeGreaterThan(120)
    const outer = await boxOf(page.locator('.fm-group[data-group="outer"]'))
    const inner = await boxOf(page.locator('.fm-group[data-group="inner"]'))
    expect(inside(inner, outer)).toBe(true)
    for (const task of ['o1', 'o2']) expect(inside(await boxOf(node(task)), outer)).toBe(true)
    for (const task of ['i1', 'i2']) expect(inside(await boxOf(node(task)), inner)).toBe(true)
    expect(inside(await boxOf(node('o1')), inner)).toBe(false)
    expect(inside(await boxOf(node('step129')), outer)).toBe(false)
  })

  it('counts down a planned retry on the node, in the waits and in the event list', async () => {
    const { executionId } = await server.engine.start({ flowId: 'retrying' })
    try {
      await page.goto(`${server.url}/ui/executions/${executionId}`)
      const flaky = node('flaky').and(page.locator('[data-state="retrying"]'))
      await flaky.waitFor()
      await flaky.getByText(/^↻ retrying in \d+ s$/).waitFor()
      await flaky.getByText('(attempt 2 of 4)').waitFor()
      const event = page.locator('.fm-event[data-type="task_finished"]').filter({ hasText: 'flaky' })
      await event.getByText(/failed in .*; retrying in \d+ s \(attempt 2 of 4\)/).waitFor()
      await page.locator('.fm-wait-item[data-wait="retry"]').getByText(/retrying in \d+ s \(attempt 2 of 4\)/).waitFor()
      // It counts down: the seconds left go down as the server's time goes on.
      const seconds = async (): Promise<number> => Number(/retrying in (\d+) s/.exec(await event.innerText())?.[1])
      const first = await seconds()
      expect(first).toBeGreaterThan(50)
      await expect.poll(seconds, { timeout: 5000 }).toBeLessThan(first)
      await page.screenshot({ path: artifactPath('retry-wait.png') })
    } finally {
      await server.engine.cancel(executionId)
    }
  })

  it('shows what a task waits for, with a form that sends the signal and completes the execution', async () => {
    const { executionId } = await server.engine.start({ flowId: 'approval' })
    await page.goto(`${server.url}/ui/executions/${executionId}`)
    await node('approve').and(page.locator('[data-state="waiting"]')).getByText('◷ signal "approval"').waitFor()
    const wait = page.locator('.fm-wait-item[data-wait="signal"]')
    await wait.getByText(/waiting for signal "approval" \(times out in 59 min \d+ s\)/).waitFor()
    const form = wait.locator('form.fm-signal-form')
    expect(await form.getByLabel('Signal').inputValue()).toBe('approval')
    const payload = form.getByLabel('Payload (JSON): the task\'s data')
    await payload.fill('{"approved": tru')
    await form.getByText(/^Not JSON/).waitFor()
    expect(await form.getByRole('button', { name: 'Send signal' }).isDisabled()).toBe(true)
    await payload.fill('{"approved": true, "by": "ana"}')
    await form.getByText('Valid JSON.').waitFor()
    await page.screenshot({ path: artifactPath('signal-form.png') })
    await form.getByRole('button', { name: 'Send signal' }).click()
    await page.locator('[data-outcome="accepted"]').getByText(/^202/).waitFor()
    await page.locator('.fm-execution[data-status="completed"]').waitFor()
    await node('record').and(page.locator('[data-state="succeeded"]')).waitFor()
    await node('approve').getByRole('button').click()
    await page.locator('.fm-task-runs[data-task="approve"] .fm-json').getByText('"by": "ana"').waitFor()

    // Sent again to the finished execution, the server's 409 is shown as it is.
    const response = await fetch(`${server.url}/api/v1/executions/${executionId}/signals/approval`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(response.status).toBe(409)
  })

  it('shows the 409 and 404 answers of the signals route in the form', async () => {
    const { executionId } = await server.engine.start({ flowId: 'approval' })
    await page.goto(`${server.url}/ui/executions/${executionId}`)
    const form = page.locator('.fm-wait-item[data-wait="signal"] form.fm-signal-form')
    await form.waitFor()
    // The execution ends (cancelled elsewhere) while the form is on screen (its reads held back,
    // so that the page does not learn it yet): the server answers 409.
    const held: Route[] = []
    await page.route(`**/api/v1/executions/${executionId}`, (route) => void held.push(route))
    await server.engine.cancel(executionId)
    await form.getByRole('button', { name: 'Send signal' }).click()
    await form.locator('[data-outcome="refused"]').getByText(/^409: the execution has already finished/).waitFor()
    // An id the server does not know: 404.
    await page.route(`**/api/v1/executions/${executionId}/signals/approval`, (route) => route.continue({ url: route.request().url().replace(executionId, 'no-such-execution') }))
    await form.getByRole('button', { name: 'Send signal' }).click()
    await form.locator('[data-outcome="refused"]').getByText(/^404: the server knows no such execution/).waitFor()
    await page.unroute(`**/api/v1/executions/${executionId}`)
    for (const route of held.splice(0)) await route.continue()
    await page.locator('.fm-execution[data-status="cancelled"]').waitFor()
  })

  it('links a sub-flow\'s run to its child execution, the child back to its parent, and lists children by parent', async () => {
    const parent = await server.engine.run({ flowId: 'parent' })
    expect(parent.execution.status).toBe('completed')
    await page.goto(`${server.url}/ui/executions/${parent.execution.id}`)
    const link = node('call').getByRole('link', { name: 'child ↗' })
    await link.waitFor()
    const childUrl = await link.getAttribute('href')
    await link.click()
    await page.waitForURL((url) => url.pathname === childUrl)
    await page.locator('.fm-execution[data-status="completed"]').waitFor()
    const back = page.locator('.fm-parent').getByRole('link', { name: parent.execution.id })
    await page.locator('.fm-parent').getByText('(task call)').waitFor()
    await back.click()
    await page.waitForURL((url) => url.pathname.endsWith(`/executions/${parent.execution.id}`))
    await page.locator('.fm-children li').first().waitFor()
    expect(await page.locator('.fm-children').getByRole('link').first().getAttribute('href')).toBe(childUrl)

    await page.goto(`${server.url}/ui/?parent_execution_id=${encodeURIComponent(parent.execution.id)}`)
    const rows = page.locator('tr[data-execution]')
    await rows.first().waitFor()
    expect(await rows.count()).toBe(1)
    await rows.first().getByText('↳ sub-flow of').waitFor()
    expect(await page.getByLabel('Sub-flows of').inputValue()).toBe(parent.execution.id)
  })

  it('follows a resume made elsewhere without a reload, and reads the resumed history whole', async () => {
    const failed = await server.engine.run({ flowId: 'flow123' }, { input: { fail: ['task2'] } })
    await page.goto(`${server.url}/ui/executions/${failed.execution.id}`)
    await page.locator('.fm-execution[data-status="failed"]').waitFor()
    await page.locator('.fm-event[data-type="execution_finished"]').waitFor()
    const navigations: string[] = []
    page.on('framenavigated', (frame) => navigations.push(frame.url()))
    // Another client resumes it with an input under which task2 succeeds.
    const response = await fetch(`${server.url}/api/v1/executions/${failed.execution.id}/resume`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { fail: [] }, wait: false }),
    })
    expect(response.status).toBeLessThan(300)
    await page.locator('.fm-execution[data-status="completed"]').waitFor()
    await node('task3').and(page.locator('[data-state="succeeded"]')).waitFor()
    // The whole history: the first end, the resume, and the last end.
    await expect.poll(() => page.locator('.fm-event[data-type="execution_finished"]').count()).toBe(2)
    await page.locator('.fm-event[data-type="execution_resumed"]').waitFor()
    expect(await page.locator('.fm-event[data-type="execution_finished"]').last().innerText()).toMatch(/execution completed/)
    expect(navigations).toEqual([])
  })
})
