import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineTask } from '../../src/tasks/define-task.js'
import { SEED } from '../http/helpers.js'
import { artifactPath, boxOf, browserAvailable, ensureUiBuilt, launchChromium, pagePerTest, startUiServer, type Box, type UiServer } from './ui-harness.js'

/** What the UI decides and now shows: the list's filters and stream, the server's reachability, resuming, task inputs, the graph's fit. */

/** Gates that tests open one at a time: each execution of GATED waits for the next gate. */
const gates: (() => void)[] = []
const gate = defineTask({
  name: 'gate',
  description: 'Waits until the end-to-end test opens it.',
  run: () => new Promise((resolve) => gates.push(() => resolve({ opened: true }))),
})
const openGates = (): void => {
  for (const open of gates.splice(0)) open()
}
const GATED = { id: 'gated', name: 'Gated', start_task: 'wait', tasks: [{ name: 'wait', type: 'gate' }], conditions: [] }

/** A flow whose data conditions have long labels, routed around the side of its nodes. */
const BRANCHY = {
  id: 'branchy',
  name: 'Branchy',
  start_task: 'classify',
  tasks: [{ name: 'classify', type: 'noop' }, { name: 'page_oncall', type: 'noop' }, { name: 'queue', type: 'noop' }, { name: 'archive', type: 'noop' }],
  conditions: [
    {
      name: 'triage',
      source_task: 'classify',
      cases: [
        { when: "results.classify.data.label == 'spam'", target: 'end' },
        { when: "input.priority == 'high'", target: 'page_oncall' },
      ],
      default: 'queue',
    },
    { name: 'after_queue', source_task: 'queue', outcome: 'success', target_task_success: 'archive', target_task_failure: 'page_oncall' },
  ],
}

let browser: Browser
let server: UiServer
let page: Page
const available = browserAvailable()

beforeAll(async () => {
  if (!available) return
  await ensureUiBuilt()
  ;[browser, server] = await Promise.all([launchChromium(), startUiServer({ tasks: [gate] })])
  await server.engine.registerFlow(SEED)
  await server.engine.registerFlow(BRANCHY)
}, 120_000)
afterAll(async () => {
  openGates()
  await browser?.close()
  await server?.close()
})
pagePerTest(
  () => browser,
  (p) => {
    page = p
  },
)

const boxesOf = async (locator: Locator): Promise<Box[]> => Promise.all((await locator.all()).map(boxOf))
const overlap = (a: Box, b: Box): boolean => a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5
const inside = (a: Box, outer: Box): boolean => a.x >= outer.x - 0.5 && a.y >= outer.y - 0.5 && a.x + a.width <= outer.x + outer.width + 0.5 && a.y + a.height <= outer.y + outer.height + 0.5

describe.skipIf(!available)('what the web UI shows', () => {
  it('keeps the executions list live from one list stream, with no polling, and filters it by id prefix and creation time', async () => {
    const reads: string[] = []
    page.on('request', (request) => {
      const url = new URL(request.url())
      if (url.pathname.startsWith('/api/')) reads.push(url.pathname + url.search)
    })
    await page.goto(`${server.url}/ui/`)
    await page.getByRole('heading', { name: 'Executions' }).waitFor()
    await expect.poll(() => reads.filter((r) => r === '/api/v1/events').length).toBe(1)
    const listReads = (): number => reads.filter((r) => r.startsWith('/api/v1/executions?')).length
    await expect.poll(listReads).toBe(1)

    // Executions another client starts appear, change and finish on screen, told by the stream alone.
    const done = await server.engine.run({ flowId: 'flow123' })
    const running = await server.engine.start({ flow: GATED })
    await page.locator(`tr[data-execution="${done.execution.id}"][data-status="completed"]`).waitFor()
    const row = page.locator(`tr[data-execution="${running.executionId}"]`)
    await row.and(page.locator('[data-status="running"]')).waitFor()
    openGates()
    await row.and(page.locator('[data-status="completed"]')).waitFor()
    expect(listReads()).toBe(1)
    expect(reads.filter((r) => r.startsWith('/api/v1/executions/'))).toEqual([])

    // Find one execution by the start of its id.
    const prefix = done.execution.id.slice(0, 30)
    await page.getByLabel('Id starts with').fill(prefix)
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect.poll(() => new URL(page.url()).searchParams.get('id_prefix')).toBe(prefix)
    await expect.poll(() => page.locator('tr[data-execution]').count()).toBe(1)
    await page.locator(`tr[data-execution="${done.execution.id}"]`).waitFor()

    // A creation time range: nothing was created in the next hour.
    await page.getByRole('button', { name: 'Clear' }).click()
    await expect.poll(() => page.locator('tr[data-execution]').count()).toBeGreaterThanOrEqual(2)
    await page.getByLabel('Created from').fill(localInput(Date.now() + 3_600_000))
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.getByText('No executions match these filters').waitFor()
    expect(new URL(page.url()).searchParams.get('created_after')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/)
  })

  it('says the server is unreachable while it is down, tries again, and goes away when it answers', async () => {
    await page.goto(`${server.url}/ui/`)
    await page.getByRole('heading', { name: 'Executions' }).waitFor()
    await server.stop()
    try {
      const banner = page.getByRole('alert').filter({ hasText: 'The server is unreachable' })
      await banner.getByText(/Trying again/).waitFor()
      // A page opened meanwhile waits for the server instead of failing with "Failed to fetch".
      await page.getByRole('link', { name: 'Task types' }).click()
      await page.screenshot({ path: artifactPath('server-unreachable.png') })
    } finally {
      await server.start()
    }
    await page.getByRole('alert').filter({ hasText: 'The server is unreachable' }).waitFor({ state: 'detached' })
    await page.locator('[data-task-type="delay"]').waitFor()
    expect(await page.getByText('Failed to fetch').count()).toBe(0)
  })

  it('never shows a running execution\'s duration as negative when the browser\'s clock is behind the server\'s', async () => {
    await page.clock.install({ time: Date.now() - 5000 })
    await page.clock.resume()
    await page.goto(`${server.url}/ui/`)
    await page.getByRole('heading', { name: 'Executions' }).waitFor()
    const started = await server.engine.start({ flow: GATED })
    try {
      const duration = page.locator(`tr[data-execution="${started.executionId}"][data-status="running"] .fm-duration`)
      await duration.waitFor()
      for (let i = 0; i < 5; i++) expect(await duration.innerText()).toMatch(/^\d/)
      await page.goto(`${server.url}/ui/executions/${started.executionId}`)
      const header = page.locator('.fm-execution-head .fm-duration')
      await header.waitFor()
      expect(await header.innerText()).toMatch(/^\d/)
      expect(await page.locator('.fm-node[data-task="wait"] .fm-timer').innerText()).toMatch(/^\d/)
    } finally {
      openGates()
    }
  })

  it('resumes a failed execution with a new input, starting from the one it had', async () => {
    const failed = await server.engine.run({ flowId: 'flow123' }, { input: { fail: ['task2'], batch: 7 } })
    await page.goto(`${server.url}/ui/executions/${failed.execution.id}`)
    await page.getByRole('button', { name: 'Resume from task2', exact: true }).waitFor()
    await page.getByRole('button', { name: 'Resume with a new input…' }).click()
    const input = page.getByLabel(/New input \(JSON\)/)
    expect(JSON.parse(await input.inputValue())).toEqual({ fail: ['task2'], batch: 7 })
    await input.fill(JSON.stringify({ fail: [], batch: 8 }))
    await page.getByRole('button', { name: 'Resume from task2 with this input' }).click()
    // task2 fails only when the input names it: completing shows the new input was used.
    await page.locator('.fm-execution[data-status="completed"]').waitFor()
    await page.locator('.fm-node[data-task="task3"][data-state="succeeded"]').waitFor()
  })

  it('lists each task type\'s input fields as a table: name, type, required, description, default', async () => {
    await page.goto(`${server.url}/ui/tasks`)
    const cells = (type: string, field: string) => page.locator(`[data-task-type="${type}"] tr[data-field="${field}"]`).locator('th, td').allInnerTexts()
    await page.locator('[data-task-type="delay"] tr[data-field="ms"]').waitFor()
    expect(await cells('delay', 'ms')).toEqual(['ms', 'integer, 0 to 86,400,000', 'required', 'How long to wait, in milliseconds.', '—'])
    expect(await cells('fail', 'message')).toEqual(['message', 'string, at most 10,000 characters', 'optional', 'The error the task fails with.', '"failed on purpose"'])
    expect(await cells('task1', 'fail')).toEqual(['fail', 'array of string or string', 'optional', 'The name of a task to fail, or a list of them.', '—'])
    await page.locator('[data-task-type="noop"]').getByText('Accepts any input.').waitFor()
    // The JSON Schema itself is there for whoever opens it, not in the way.
    expect(await page.locator('[data-task-type] pre:visible').count()).toBe(0)
  })

  it('fits a graph at 800 px wide with every label inside it, no node under the zoom buttons, and nothing overlapping', async () => {
    await page.setViewportSize({ width: 800, height: 700 })
    const failed = await server.engine.run({ flowId: 'flow123' }, { input: { fail: ['task2'] } })
    const branchy = await server.engine.run({ flowId: 'branchy' }, { input: { label: 'ham', priority: 'high' } })
    expect(branchy.execution.status).toBe('completed')
    for (const path of [`/ui/executions/${failed.execution.id}`, `/ui/executions/${branchy.execution.id}`, '/ui/flows/branchy', '/ui/editor']) {
      await page.goto(`${server.url}${path}`)
      const graph = page.locator('.fm-graph[data-ready]')
      await graph.waitFor()
      const pane = await boxOf(graph.locator('.react-flow'))
      const controls = await boxOf(graph.locator('.react-flow__controls'))
      const nodes = await boxesOf(graph.locator('.fm-node, .fm-start, .fm-end'))
      const labels = await boxesOf(graph.locator('.fm-edge-label'))
      expect(nodes.length, path).toBeGreaterThan(2)
      expect(labels.length, path).toBeGreaterThan(1)
      for (const [i, node] of nodes.entries()) {
        expect(inside(node, pane), `${path}: node ${i} inside the graph`).toBe(true)
        expect(overlap(node, controls), `${path}: node ${i} under the zoom buttons`).toBe(false)
        for (const other of nodes.slice(i + 1)) expect(overlap(node, other), `${path}: two nodes overlap`).toBe(false)
      }
      for (const [i, label] of labels.entries()) {
        expect(inside(label, pane), `${path}: label ${i} ${JSON.stringify(label)} inside the graph ${JSON.stringify(pane)}`).toBe(true)
        expect(overlap(label, controls), `${path}: label ${i} under the zoom buttons`).toBe(false)
        for (const node of nodes) expect(overlap(label, node), `${path}: label ${i} over a node`).toBe(false)
      }
      if (path.includes(branchy.execution.id)) await page.screenshot({ path: artifactPath('graph-800px.png') })
    }
  })
})

/** A time as a datetime-local input takes it: local time, to the minute. */
function localInput(ms: number): string {
  const d = new Date(ms)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}
