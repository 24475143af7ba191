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

const SHOTS: readonly Shot[] = [
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
