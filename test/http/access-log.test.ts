import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { InjectOptions } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UI_CLIENT_HEADER, UI_CLIENT_VALUE } from '../../src/http/access-log.js'
import { createTestApp, SEED, type TestApp } from './helpers.js'

interface LogLine {
  readonly level: number
  readonly msg: string
  readonly req?: { method: string; url: string }
  readonly res?: { statusCode: number }
  readonly responseTime?: number
}

const INFO = 30
const DEBUG = 20

let root: string
let t: TestApp
let lines: LogLine[] = []
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'flow-manager-access-log-'))
  mkdirSync(join(root, 'assets'))
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>UI</title>')
  writeFileSync(join(root, 'assets', 'index-B3x9fQ1a.js'), 'console.log(1)')
  // The server's own pino logger, at debug, written to memory: what `serve` prints, line by line.
  const logger = pino({ level: 'debug' }, { write: (text: string) => lines.push(JSON.parse(text) as LogLine) })
  t = await createTestApp({ uiRoot: root, logger })
})
afterAll(async () => {
  await t.close()
  rmSync(root, { recursive: true, force: true })
})

/** The access log lines one request wrote. */
async function accessLog(request: InjectOptions): Promise<LogLine[]> {
  lines = []
  await t.app.inject(request)
  return lines.filter((l) => l.msg === 'request completed' || l.msg === 'incoming request')
}

const fromUi = { [UI_CLIENT_HEADER]: UI_CLIENT_VALUE }

describe('access logs', () => {
  it('logs an API request once at info, with method, URL, status and time', async () => {
    const log = await accessLog({ method: 'POST', url: '/api/v1/executions', payload: { flow: SEED } })
    const info = log.filter((l) => l.level === INFO)
    expect(info).toHaveLength(1)
    expect(info[0]).toMatchObject({ msg: 'request completed', req: { method: 'POST', url: '/api/v1/executions' }, res: { statusCode: 200 }, responseTime: expect.any(Number) })
    // "incoming request" says nothing the completed line does not: it is debug.
    expect(log.find((l) => l.msg === 'incoming request')?.level).toBe(DEBUG)
  })

  it('keeps reads by API clients at info', async () => {
    const log = await accessLog({ url: '/api/v1/executions?limit=5' })
    expect(log.filter((l) => l.level === INFO).map((l) => l.req?.url)).toEqual(['/api/v1/executions?limit=5'])
  })

  it('logs the web UI\'s files, probes, scrapes and the docs at debug only', async () => {
    for (const url of ['/ui/assets/index-B3x9fQ1a.js', '/ui/', '/ui/executions/x', '/', '/health', '/ready', '/metrics', '/docs', '/docs/static/swagger-ui.css', '/openapi.json']) {
      const log = await accessLog({ url })
      expect({ url, levels: log.map((l) => l.level) }).toEqual({ url, levels: [DEBUG, DEBUG] })
    }
  })

  it('logs the web UI\'s polling reads at debug, and its actions at info', async () => {
    const polling = await accessLog({ url: '/api/v1/executions?limit=50', headers: fromUi })
    expect(polling.map((l) => l.level)).toEqual([DEBUG, DEBUG])
    const action = await accessLog({ method: 'POST', url: '/api/v1/flows', payload: SEED, headers: fromUi })
    expect(action.filter((l) => l.level === INFO)).toHaveLength(1)
  })

  it('logs an event stream at debug', async () => {
    const started = await t.app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: SEED } })
    const log = await accessLog({ url: `/api/v1/executions/${started.json<{ execution_id: string }>().execution_id}/events` })
    expect(log.length).toBeGreaterThan(0)
    expect(log.filter((l) => l.level >= INFO)).toEqual([])
  })

  it('lets LOG_LEVEL=info show API requests and nothing of the UI\'s files or polling', async () => {
    const quiet = pino({ level: 'info' }, { write: (text: string) => lines.push(JSON.parse(text) as LogLine) })
    const app = await createTestApp({ uiRoot: root, logger: quiet })
    try {
      lines = []
      await app.app.inject({ url: '/ui/assets/index-B3x9fQ1a.js' })
      await app.app.inject({ url: '/api/v1/flows', headers: fromUi })
      await app.app.inject({ url: '/api/v1/flows' })
      expect(lines.map((l) => `${l.msg} ${l.req?.url ?? ''}`)).toEqual(['request completed /api/v1/flows'])
    } finally {
      await app.close()
    }
  })
})
