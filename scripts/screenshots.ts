/**
 * Takes the README's screenshots of the web UI with headless Chromium, against a real server on a
 * throwaway database: `npm run screenshots` (writes docs/*.png). Chromium: Debian's `chromium`
 * package, or CHROMIUM_PATH.
 */
import type { Page } from 'playwright-core'
import { join } from 'node:path'
import { ensureUiBuilt, launchChromium, REPO, startUiServer, type UiServer } from '../test/e2e/ui-harness.js'

interface Shot {
  readonly file: string
  readonly take: (page: Page, server: UiServer) => Promise<void>
}

const SEED_WITH_A_TYPO = {
  flow: {
    id: 'orders',
    name: 'Order intake',
    start_task: 'fetch',
    tasks: [
      { name: 'fetch', type: 'noop', description: 'Fetch the order' },
      { name: 'bulk_import', type: 'noop', description: 'Import in one batch' },
      { name: 'one_by_one', type: 'noop', description: 'Import line by line' },
    ],
    conditions: [
      {
        name: 'by_size',
        source_task: 'fetch',
        when: 'results.fetch.data.count > 100',
        target_task_success: 'bulk_import',
        target_task_failure: 'one_by_one',
      },
      { name: 'after_bulk', source_task: 'bulk_import', outcome: 'success', target_task_sucess: 'end', target_task_failure: 'one_by_one' },
    ],
  },
}

/** Orders fetched, three lookups side by side (one of them two tasks long), then each line priced, at most three at once. */
const ORDER_FAN_OUT = {
  id: 'order-fan-out',
  name: 'Order fan-out',
  start_task: 'fetch_order',
  tasks: [
    { name: 'fetch_order', type: 'delay', input: { ms: 120 } },
    { name: 'lookups', parallel: ['prices', 'stock', 'customer'], join: 'all' },
    { name: 'prices', type: 'delay', input: { ms: 420 } },
    { name: 'apply_discounts', type: 'delay', input: { ms: 260 } },
    { name: 'stock', type: 'delay', input: { ms: 750 } },
    { name: 'customer', type: 'delay', input: { ms: 300 } },
    { name: 'price_lines', type: 'delay', for_each: '[1, 2, 3, 4, 5, 6, 7]', max_concurrency: 3, input: { ms: '${120 + index * 20}' } },
    { name: 'store', type: 'delay', input: { ms: 150 } },
  ],
  conditions: [
    { name: 'after_fetch', source_task: 'fetch_order', outcome: 'success', target_task_success: 'lookups', target_task_failure: 'end' },
    { name: 'after_prices', source_task: 'prices', outcome: 'success', target_task_success: 'apply_discounts', target_task_failure: 'end' },
    { name: 'after_lookups', source_task: 'lookups', outcome: 'success', target_task_success: 'price_lines', target_task_failure: 'end' },
    { name: 'after_lines', source_task: 'price_lines', outcome: 'success', target_task_success: 'store', target_task_failure: 'end' },
  ],
}

/** A call to a service that is down: the failed attempt waits for its retry. */
const FLAKY_CALL = {
  id: 'notify-warehouse',
  name: 'Notify the warehouse',
  start_task: 'reserve',
  tasks: [
    { name: 'reserve', type: 'delay', input: { ms: 80 } },
    { name: 'notify', type: 'fail', input: { message: 'warehouse API answered 503' }, retry: { max_attempts: 4, backoff_ms: 20_000 } },
    { name: 'confirm', type: 'noop' },
  ],
  conditions: [
    { name: 'after_reserve', source_task: 'reserve', outcome: 'success', target_task_success: 'notify', target_task_failure: 'end' },
    { name: 'after_notify', source_task: 'notify', outcome: 'success', target_task_success: 'confirm', target_task_failure: 'end' },
  ],
}

const SHOTS: readonly Shot[] = [
  {
    // An execution with a parallel group: the group a box around its branches, the path taken.
    file: 'execution-graph.png',
    async take(page, server) {
      await server.engine.registerFlow(ORDER_FAN_OUT)
      const done = await server.engine.run({ flowId: ORDER_FAN_OUT.id })
      await page.goto(`${server.url}/ui/executions/${done.execution.id}`)
      await page.locator('.fm-execution[data-status="completed"]').waitFor()
      await page.locator('.fm-graph[data-ready]').waitFor()
      await page.locator('.fm-event[data-type="execution_finished"]').waitFor()
    },
  },
  {
    // The same execution's timeline: the branches' bars overlap, the items run three at a time.
    file: 'timeline.png',
    async take(page, server) {
      await server.engine.registerFlow(ORDER_FAN_OUT)
      const done = await server.engine.run({ flowId: ORDER_FAN_OUT.id })
      await page.goto(`${server.url}/ui/executions/${done.execution.id}?view=timeline`)
      await page.locator('.fm-execution[data-status="completed"]').waitFor()
      await page.locator('.fm-wf-row[data-task="store"] .fm-bar').waitFor()
      await page.locator('.fm-event[data-type="execution_finished"]').waitFor()
    },
  },
  {
    // A failed attempt waiting for its retry: the node, the waits and the event list count down.
    file: 'retry-wait.png',
    async take(page, server) {
      await server.engine.registerFlow(FLAKY_CALL)
      const { executionId } = await server.engine.start({ flowId: FLAKY_CALL.id })
      await page.goto(`${server.url}/ui/executions/${executionId}`)
      await page.locator('.fm-node[data-task="notify"][data-state="retrying"]').waitFor()
      await page.locator('.fm-graph[data-ready]').waitFor()
      await page.locator('.fm-event[data-type="task_finished"]').getByText(/retrying in/).waitFor()
    },
  },
  {
    // The editor: a typo underlined where it is, the server's explanation on hover, the graph beside.
    file: 'editor.png',
    async take(page, server) {
      await page.goto(`${server.url}/ui/editor`)
      await page.locator('.fm-check[data-state="valid"]').waitFor()
      await page.getByRole('textbox', { name: 'Flow JSON' }).fill(JSON.stringify(SEED_WITH_A_TYPO, null, 2))
      await page.locator('.fm-check[data-state="invalid"]').waitFor()
      await page.locator('.fm-graph[data-ready]').waitFor()
      // Unfocused, so that the picture shows the problem rather than the focus ring.
      await page.evaluate('document.activeElement.blur()')
      await page.locator('.cm-lintRange-error', { hasText: 'target_task_sucess' }).hover()
      await page.locator('.cm-tooltip-lint').waitFor()
    },
  },
]

const only = process.argv[2]
await ensureUiBuilt()
const [browser, server] = await Promise.all([launchChromium(), startUiServer()])
try {
  for (const shot of SHOTS) {
    if (only !== undefined && shot.file !== only) continue
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' })
    await shot.take(page, server)
    await page.screenshot({ path: join(REPO, 'docs', shot.file) })
    await page.close()
    console.log(`docs/${shot.file}`)
  }
} finally {
  await browser.close()
  await server.close()
}
