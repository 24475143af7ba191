import { describe, expect, it, vi } from 'vitest'
import { main } from '../../src/cli/main.js'
import { startServer, type ServerOptions } from '../../src/http/server.js'
import { testIo } from './cli-test-io.js'

// The wiring of `serve` (settings, logger, shutdown order) is tested against a stand-in server;
// serve-http.test.ts listens for real.
const seen = vi.hoisted(() => ({ workerStarts: 0 }))
vi.mock('../../src/http/server.js', () => ({
  startServer: vi.fn((options: ServerOptions) => {
    const engine = options.engine as { startWorker: () => void }
    const startWorker = engine.startWorker.bind(engine)
    engine.startWorker = () => {
      seen.workerStarts++
      startWorker()
    }
    return Promise.resolve({
      url: `http://${options.host}:${options.port}`,
      close: vi.fn(() => options.engine.close({ graceMs: 0 })),
    })
  }),
}))
const started = vi.mocked(startServer)

/** Runs `serve` until it has said where it listens, then interrupts it as SIGTERM would. */
async function serveUntilListening(argv: string[], env: Record<string, string>): Promise<{ exit: number; out: string; options: ServerOptions; closed: boolean }> {
  started.mockClear()
  const controller = new AbortController()
  const io = testIo({ env: { LOG_LEVEL: 'info', ...env }, signal: controller.signal })
  const exit = main(['serve', '--db', 'sqlite::memory:', ...argv], io)
  const early = await Promise.race([io.printed('listening on').then(() => undefined), exit])
  if (early !== undefined) throw new Error(`serve exited ${early} before listening: ${io.err()}`)
  controller.abort()
  const code = await exit
  const server = await started.mock.results[0]?.value
  return { exit: code, out: io.out(), options: started.mock.calls[0]![0], closed: server.close.mock.calls.length === 1 }
}

describe('flow-manager serve', () => {
  it('listens on 127.0.0.1:8000 by default, starts working on stored executions, logs the URL as JSON, and closes the server when interrupted', async () => {
    seen.workerStarts = 0
    const run = await serveUntilListening([], {})
    expect(run.exit).toBe(0)
    expect(seen.workerStarts).toBe(1)
    expect(run.options).toMatchObject({ host: '127.0.0.1', port: 8000, app: { apiKeys: [] } })
    expect(run.closed).toBe(true)
    const lines = run.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines[0]).toMatchObject({ level: 30, msg: 'Flow Manager listening on http://127.0.0.1:8000', url: 'http://127.0.0.1:8000' })
    expect(lines.at(-1)).toMatchObject({ msg: expect.stringContaining('shutting down') })
  })

  it('takes port, host and API keys from PORT, HOST and FLOW_MANAGER_API_KEYS', async () => {
    const run = await serveUntilListening([], { PORT: '9123', HOST: '0.0.0.0', FLOW_MANAGER_API_KEYS: 'k1, k2' })
    expect(run.options).toMatchObject({ host: '0.0.0.0', port: 9123, app: { apiKeys: ['k1', 'k2'] } })
  })

  it('prefers --port and --host to the environment', async () => {
    const run = await serveUntilListening(['--port', '7001', '--host', 'localhost'], { PORT: '9123', HOST: '0.0.0.0' })
    expect(run.options).toMatchObject({ host: 'localhost', port: 7001 })
  })

  it('registers the task types of FLOW_MANAGER_TASKS beside the built-in ones', async () => {
    const run = await serveUntilListening([], { FLOW_MANAGER_TASKS: 'test/cli/fixtures/counter-tasks.ts' })
    expect(run.options.engine.tasks.names()).toEqual(expect.arrayContaining(['task1', 'noop', 'count-up']))
  })

  it('hands the server a pino logger at LOG_LEVEL', async () => {
    const run = await serveUntilListening([], { LOG_LEVEL: 'debug' })
    expect((run.options.logger as { level?: string }).level).toBe('debug')
  })

  it('hands the server the limits of FLOW_MANAGER_BODY_LIMIT, FLOW_MANAGER_DATA_LIMIT and FLOW_MANAGER_REQUEST_TIMEOUT_MS', async () => {
    const run = await serveUntilListening([], { FLOW_MANAGER_BODY_LIMIT: '8388608', FLOW_MANAGER_DATA_LIMIT: '2048', FLOW_MANAGER_REQUEST_TIMEOUT_MS: '0' })
    expect(run.options.app).toMatchObject({ bodyLimit: 8388608, dataLimit: 2048, requestTimeoutMs: 0 })
    const defaults = await serveUntilListening([], {})
    expect(defaults.options.app).toEqual({ apiKeys: [] })
  })

  it('exits 2 when a limit is not a whole number in its range', async () => {
    const io = testIo({ env: { FLOW_MANAGER_DATA_LIMIT: '1MB' } })
    expect(await main(['serve', '--db', 'sqlite::memory:'], io)).toBe(2)
    expect(io.err()).toBe('flow-manager: FLOW_MANAGER_DATA_LIMIT "1MB" must be a whole number from 1024 to 1073741824\n')
  })

  it('exits 2 when the port is not a port number', async () => {
    const io = testIo({ env: { PORT: 'eighty' } })
    expect(await main(['serve', '--db', 'sqlite::memory:'], io)).toBe(2)
    expect(io.err()).toBe('flow-manager: PORT "eighty" is not a port number (0-65535)\n')
  })

  it('exits 1 with one line when the server cannot start', async () => {
    started.mockRejectedValueOnce(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8000'))
    const io = testIo()
    expect(await main(['serve', '--db', 'sqlite::memory:'], io)).toBe(1)
    expect(io.err()).toBe('flow-manager: cannot start the HTTP server on 127.0.0.1:8000: listen EADDRINUSE: address already in use 127.0.0.1:8000\n')
  })
})
