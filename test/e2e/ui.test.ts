import type { Browser, BrowserContext, Page, Route } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineTask } from '../../src/tasks/define-task.js'
import { artifactPath, ensureUiBuilt, launchChromium, pagePerTest, startUiServer, type UiServer, browserAvailable } from './ui-harness.js'

/** A task that waits until the test opens it, so "running" lasts exactly as long as the test needs. */
function gate(): { task: ReturnType<typeof defineTask>; open: () => void } {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  const task = defineTask({
    name: 'gate',
    description: 'Waits until the end-to-end test opens it.',
    run: async () => {
      await opened
      return { opened: true }
    },
  })
  return { task, open }
}

const GATED_FLOW = {
  id: 'gated',
  name: 'Gated',
  start_task: 'first',
  tasks: [{ name: 'first', type: 'noop' }, { name: 'middle', type: 'gate' }, { name: 'last', type: 'noop' }],
  conditions: [
    { name: 'c1', source_task: 'first', outcome: 'success', target_task_success: 'middle', target_task_failure: 'end' },
    { name: 'c2', source_task: 'middle', outcome: 'success', target_task_success: 'last', target_task_failure: 'end' },
  ],
}

const node = (page: Page, task: string) => page.locator(`.fm-node[data-task="${task}"]`)
const editorText = (page: Page) => page.getByRole('textbox', { name: 'Flow JSON' })

let browser: Browser
let server: UiServer
const gates = gate()
let context: BrowserContext
let page: Page

const available = browserAvailable()

beforeAll(async () => {
  if (!available) return
  await ensureUiBuilt()
  ;[browser, server] = await Promise.all([launchChromium(), startUiServer({ tasks: [gates.task] })])
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await server?.close()
})
pagePerTest(
  () => browser,
  (p, c) => {
    page = p
    context = c
  },
)

describe.skipIf(!available)('the web UI in Chromium', () => {
  it('redirects / to /ui/ and lists executions', async () => {
    await page.goto(`${server.url}/`)
    await expect.poll(() => new URL(page.url()).pathname).toBe('/ui/')
    await page.getByRole('heading', { name: 'Executions' }).waitFor()
  })

  it('runs the seed flow from the editor and shows three succeeded tasks and the path taken', async () => {
    await page.goto(`${server.url}/ui/editor`)
    await page.locator('.fm-check[data-state="valid"]').waitFor()
    await page.getByRole('button', { name: 'Run', exact: true }).click()
    await page.waitForURL(/\/ui\/executions\/[^/]+$/)
    await page.locator('.fm-execution[data-status="completed"]').waitFor()
    await page.locator('.fm-graph[data-ready]').waitFor()
    for (const task of ['task1', 'task2', 'task3']) await node(page, task).and(page.locator('[data-state="succeeded"]')).waitFor()
    // start → task1 → task2 → task3: three edges taken; the branches to `end` were not.
    await expect.poll(() => page.locator('.fm-edge.taken').count()).toBe(3)
    await page.locator('.fm-event[data-type="execution_finished"]').waitFor()
    await page.screenshot({ path: artifactPath('execution-graph.png') })

    await node(page, 'task2').getByRole('button').click()
    const runs = page.locator('.fm-task-runs[data-task="task2"]')
    await runs.getByText('run 2, attempt 1').waitFor()
    await runs.getByText('RECORD-1').first().waitFor()

    await page.setViewportSize({ width: 390, height: 844 })
    await page.locator('.fm-graph[data-ready]').waitFor()
    await page.screenshot({ path: artifactPath('execution-graph-phone.png'), fullPage: true })
  })

  it('shows the failed task and its error when a run fails', async () => {
    await page.goto(`${server.url}/ui/editor`)
    await page.locator('.fm-check[data-state="valid"]').waitFor()
    await page.getByLabel('Execution input').fill('{"fail": ["task2"]}')
    await page.getByRole('button', { name: 'Run', exact: true }).click()
    await page.locator('.fm-execution[data-status="failed"]').waitFor()
    await node(page, 'task1').and(page.locator('[data-state="succeeded"]')).waitFor()
    await node(page, 'task2').and(page.locator('[data-state="failed"]')).waitFor()
    await node(page, 'task3').and(page.locator('[data-state="skipped"]')).waitFor()
    await page.getByRole('button', { name: /Resume from task2/ }).waitFor()

    await node(page, 'task2').getByRole('button').click()
    await page.locator('.fm-task-runs[data-task="task2"] .fm-error').getByText('asked to fail').waitFor()
    await page.screenshot({ path: artifactPath('execution-failed.png') })
  })

  it('shows the flow schema\'s problems at once and the server\'s when it answers, inline, and redraws the graph as one types', async () => {
    await page.goto(`${server.url}/ui/editor`)
    await page.locator('.fm-check[data-state="valid"]').waitFor()
    await page.locator('.fm-graph[data-ready]').waitFor()
    // Hold the server's answers, so that what the schema finds alone can be seen first.
    const held: Route[] = []
    await page.route('**/api/v1/flows/validate', (route) => void held.push(route))
    const broken = {
      flow: {
        id: 'broken',
        name: 'Broken',
        start_task: 'fetch',
        max_steps: 'ten',
        tasks: [{ name: 'fetch', type: 'noop' }, { name: 'store', type: 'noop' }, { name: 'notify', type: 'noop' }],
        conditions: [{ name: 'after_fetch', source_task: 'fetch', outcome: 'success', target_task_sucess: 'store', target_task_failure: 'nowhere' }],
      },
    }
    await editorText(page).fill(JSON.stringify(broken, null, 2))
    // The schema's finding, underlined where it is, explained on hover.
    const tooltip = page.locator('.cm-tooltip-lint')
    await page.locator('.cm-lintRange-error', { hasText: '"ten"' }).hover()
    await tooltip.filter({ hasText: 'Expected integer but received string' }).filter({ hasText: 'flow schema' }).waitFor()
    expect(await page.locator('.cm-lintRange-error', { hasText: 'nowhere' }).count()).toBe(0)

    for (const route of held.splice(0)) await route.continue()
    await page.unroute('**/api/v1/flows/validate')
    await page.locator('.fm-check[data-state="invalid"]').waitFor()
    // The server's findings, inline too: a typo it suggests a fix for, and a target no task has.
    await page.locator('.cm-lintRange-error', { hasText: '"target_task_sucess": "store"' }).hover()
    await tooltip.filter({ hasText: 'did you mean "target_task_success"' }).filter({ hasText: 'server' }).waitFor()
    await page.locator('.cm-lintRange-error', { hasText: '"target_task_failure": "nowhere"' }).waitFor()
    await page.locator('.cm-lint-marker-error').first().waitFor()
    // Also listed with their paths and lines below the editor.
    const typo = page.locator('.fm-issue[data-path="/flow/conditions/0/target_task_sucess"]')
    await typo.getByText('line 26').waitFor()
    // The graph follows the text: three tasks and the unknown target drawn as a missing task.
    await expect.poll(() => page.locator('.fm-node.kind-task').count()).toBe(3)
    await page.locator('.fm-node.kind-missing[data-task="nowhere"]').waitFor()
    await page.screenshot({ path: artifactPath('editor-validation.png') })

    // Clicking a problem selects its text in the editor.
    await typo.getByRole('button').click()
    expect(await page.evaluate('String(window.getSelection())')).toMatch(/^"target_task_sucess": "store"/)
  })

  it('completes a key from the flow schema', async () => {
    await page.goto(`${server.url}/ui/editor`)
    await page.locator('.fm-check[data-state="valid"]').waitFor()
    await page.locator('.cm-line', { hasText: '"description": "Store data"' }).click()
    await page.keyboard.press('End')
    await page.keyboard.type(',\n"ty')
    const option = page.locator('.cm-tooltip-autocomplete li', { hasText: 'type' })
    await option.waitFor()
    await option.click()
    await expect.poll(async () => (await editorText(page).innerText()).replace(/\s+/g, ' ')).toMatch(/"description": "Store data", "type": ""/)
    // Completed, the flow is still checked as one types: an empty type is a problem.
    await page.locator('.fm-check[data-state="invalid"]').waitFor()
    // Tab indents, so the keyboard is not trapped: Escape, then Tab, leaves the editor.
    await page.keyboard.press('Escape')
    await page.keyboard.press('Tab')
    expect(await page.evaluate('document.activeElement.closest(".cm-editor") === null')).toBe(true)
  })

  it('turns a running execution into a completed one without a reload', async () => {
    await server.engine.registerFlow(GATED_FLOW)
    const list = await context.newPage()
    await list.goto(`${server.url}/ui/`)
    const started = await server.engine.start({ flowId: 'gated' })
    await page.goto(`${server.url}/ui/executions/${started.executionId}`)
    await node(page, 'middle').and(page.locator('[data-state="running"]')).waitFor()
    await node(page, 'middle').locator('.fm-timer').waitFor()
    await node(page, 'last').and(page.locator('[data-state="pending"]')).waitFor()
    await page.getByRole('button', { name: 'Cancel' }).waitFor()
    // The list shows it running, from its next refresh, without a reload either.
    const row = list.locator(`tr[data-execution="${started.executionId}"]`)
    await row.and(list.locator('[data-status="running"]')).waitFor()

    const navigations: string[] = []
    page.on('framenavigated', (frame) => navigations.push(frame.url()))
    gates.open()
    await page.locator('.fm-execution[data-status="completed"]').waitFor()
    await node(page, 'last').and(page.locator('[data-state="succeeded"]')).waitFor()
    await row.and(list.locator('[data-status="completed"]')).waitFor()
    expect(navigations).toEqual([])
  })

  it('asks for the API key once when the server requires one, and keeps it for the tab', async () => {
    const locked = await startUiServer({ apiKeys: ['sesame'] })
    try {
      await page.goto(`${locked.url}/ui/tasks`)
      const dialog = page.getByRole('dialog', { name: 'API key' })
      await dialog.getByLabel(/Key/).fill('sesame')
      await dialog.getByRole('button', { name: 'Use this key' }).click()
      await page.locator('[data-task-type="delay"]').waitFor()
      await page.getByRole('link', { name: 'Flows' }).click()
      await page.getByRole('heading', { name: 'Flows' }).waitFor()
      await page.reload()
      await page.getByRole('heading', { name: 'Flows' }).waitFor()
      await page.getByText('No flows are registered yet').waitFor()
      expect(await dialog.count()).toBe(0)
    } finally {
      // The browser lets go of its connections first, so that the server closes at once.
      await context.close()
      await locked.close()
    }
  })
})
