import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactPath, browserAvailable, launchChromium, startUiServer, type UiServer } from './ui-harness.js'

const available = browserAvailable()
let browser: Browser
let server: UiServer

beforeAll(async () => {
  if (!available) return
  ;[browser, server] = await Promise.all([launchChromium(), startUiServer()])
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

describe.skipIf(!available)('the API docs in Chromium', () => {
  it('show the canonical operations open and the seed-compatible ones collapsed under their tag', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    try {
      await page.goto(`${server.url}/docs`)
      const start = page.locator('#operations-executions-startExecution')
      await start.waitFor()
      await expect(start.isVisible()).resolves.toBe(true)
      const seedTag = page.locator('#operations-tag-seed-compatible')
      await seedTag.waitFor()
      await expect(seedTag.getAttribute('data-is-open')).resolves.toBe('false')
      await expect(page.locator('#operations-seed-compatible-seedFlowExecute').count()).resolves.toBe(0)
      await page.screenshot({ path: artifactPath('docs.png'), fullPage: true })
      // Opening the tag shows its operations: collapsed, not hidden.
      await seedTag.click()
      await page.locator('#operations-seed-compatible-seedFlowExecute').waitFor()
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  })
})
