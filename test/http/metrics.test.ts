import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, SEED, type TestApp } from './helpers.js'

/** The /metrics text as series name + labels → value. */
function series(text: string): Map<string, number> {
  const map = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue
    const space = line.lastIndexOf(' ')
    map.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return map
}

let root: string
let t: TestApp
beforeAll(async () => {
  // A UI build whose file names carry content hashes, as Vite writes them.
  root = mkdtempSync(join(tmpdir(), 'flow-manager-metrics-'))
  mkdirSync(join(root, 'assets'))
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>UI</title>')
  writeFileSync(join(root, 'assets', 'index-B3x9fQ1a.js'), 'console.log(1)')
  writeFileSync(join(root, 'assets', 'index-Zk2o8PqL.css'), 'body{}')
  t = await createTestApp({ uiRoot: root })
})
afterAll(async () => {
  await t.close()
  rmSync(root, { recursive: true, force: true })
})

const scrape = async (): Promise<{ text: string; values: Map<string, number> }> => {
  const res = await t.app.inject({ url: '/metrics' })
  expect(res.statusCode).toBe(200)
  return { text: res.body, values: series(res.body) }
}

describe('/metrics', () => {
  it('names the process metrics once: flow_manager_process_…, flow_manager_nodejs_…', async () => {
    const { text } = await scrape()
    expect(text).toMatch(/^flow_manager_process_cpu_seconds_total \d/m)
    expect(text).toMatch(/^flow_manager_nodejs_heap_size_total_bytes \d/m)
    expect(text).not.toContain('process_process')
  })

  it('labels HTTP timings with route patterns, and every file of the UI with one label', async () => {
    for (const url of ['/ui/assets/index-B3x9fQ1a.js', '/ui/assets/index-Zk2o8PqL.css', '/ui/index.html', '/ui/executions/abc', '/api/v1/executions/some-id', '/nowhere']) {
      await t.app.inject({ url })
    }
    const { text } = await scrape()
    const routes = new Set([...text.matchAll(/flow_manager_http_request_duration_seconds_count\{[^}]*route="([^"]*)"/g)].map((m) => m[1]))
    expect(routes).toContain('/ui/*')
    expect(routes).toContain('/api/v1/executions/:id')
    expect(routes).toContain('unmatched')
    expect([...routes].filter((r) => r?.includes('assets') === true || r?.includes('index'))).toEqual([])
    expect(text).not.toContain('some-id')
    expect(text).not.toContain('B3x9fQ1a')
  })

  it('counts executions by registered flow id, and inline flows (whatever their id) as "inline"', async () => {
    await t.app.inject({ method: 'POST', url: '/api/v1/flows', payload: SEED })
    await t.app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow_id: 'flow123' } })
    await t.app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow_id: 'flow123', input: { fail: ['task2'] } } })
    await t.app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: { ...SEED, id: 'anyone-can-pick-this-id' } } })
    // A seed-compatible route runs through the same engine and is counted the same way.
    await t.app.inject({ method: 'POST', url: '/flow/execute', payload: { flow: { ...SEED, id: 'another-inline-id' } } })
    const { text, values } = await scrape()
    expect(values.get('flow_manager_executions_started_total{flow_id="flow123"}')).toBe(2)
    expect(values.get('flow_manager_executions_started_total{flow_id="inline"}')).toBe(2)
    expect(values.get('flow_manager_executions_finished_total{flow_id="flow123",status="completed"}')).toBe(1)
    expect(values.get('flow_manager_executions_finished_total{flow_id="flow123",status="failed"}')).toBe(1)
    expect(values.get('flow_manager_executions_finished_total{flow_id="inline",status="completed"}')).toBe(2)
    expect(text).not.toContain('anyone-can-pick-this-id')
    expect(text).not.toContain('another-inline-id')
  })
})
