import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../http/helpers.js'

/** How the server hands out the UI: a fake build in a temp folder, through inject (no browser). */
let root: string
let t: TestApp
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'flow-manager-ui-'))
  mkdirSync(join(root, 'assets'))
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>UI</title><script type="module" src="/ui/assets/app-1234.js"></script>')
  writeFileSync(join(root, 'assets', 'app-1234.js'), 'console.log("ui")')
  t = await createTestApp({ apiKeys: ['k'], uiRoot: root })
})
afterAll(async () => {
  await t.close()
  rmSync(root, { recursive: true, force: true })
})

describe('serving the UI', () => {
  it('redirects / and /ui to /ui/', async () => {
    for (const url of ['/', '/ui']) {
      const res = await t.app.inject({ url })
      expect({ url, status: res.statusCode, location: res.headers.location }).toEqual({ url, status: 302, location: '/ui/' })
    }
  })

  it('answers index.html for /ui/ and for any page address under it, uncached, without an API key', async () => {
    for (const url of ['/ui/', '/ui/executions/01abc', '/ui/flows/flow123', '/ui/editor?flow=x']) {
      const res = await t.app.inject({ url })
      expect({ url, status: res.statusCode }).toEqual({ url, status: 200 })
      expect(res.headers['content-type']).toMatch(/^text\/html/)
      expect(res.headers['cache-control']).toBe('no-cache')
      expect(res.body).toContain('/ui/assets/app-1234.js')
    }
  })

  it('serves hashed assets for a year, and a missing one as 404 rather than the page', async () => {
    const asset = await t.app.inject({ url: '/ui/assets/app-1234.js' })
    expect(asset.statusCode).toBe(200)
    expect(asset.headers['content-type']).toMatch(/javascript/)
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect((await t.app.inject({ url: '/ui/assets/app-0000.js' })).statusCode).toBe(404)
  })

  it('keeps the API closed while the UI is open', async () => {
    expect((await t.app.inject({ url: '/api/v1/tasks' })).statusCode).toBe(401)
  })

  it('says how to build the UI when there is no build', async () => {
    const bare = await createTestApp({ uiRoot: join(root, 'missing') })
    try {
      const res = await bare.app.inject({ url: '/ui/executions/x' })
      expect(res.statusCode).toBe(200)
      expect(res.body).toContain('npm run build')
      expect(res.body).toContain('href="/docs"')
    } finally {
      await bare.close()
    }
  })
})
