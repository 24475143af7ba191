import { gzipSync } from 'node:zlib'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isFlowManagerError } from '../../src/core/errors.js'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { createBuiltinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import type { HttpTaskOptions } from '../../src/tasks/outbound-http/http-task.js'
import { MAX_RESPONSE_BYTES } from '../../src/tasks/outbound-http/response-body.js'
import { fakeClock, sequentialIds, tempDir } from '../fixtures/engine.js'
import { hang, json, redirect, sequence, startHttpTarget, text, type HttpTarget } from '../fixtures/http-target.js'

const dir = tempDir()
let target: HttpTarget
let other: HttpTarget
const open: { close(): Promise<void> }[] = []

beforeAll(async () => {
  target = await startHttpTarget()
  other = await startHttpTarget()
})
afterAll(async () => {
  for (const o of open) await o.close()
  await target.close()
  await other.close()
  dir.remove()
})

/** A real engine on a SQLite file whose http task is configured with `http`. */
async function engineWith(http: HttpTaskOptions = {}, maxResultBytes?: number): Promise<Engine> {
  const store = await openSqliteStore({ path: join(dir.path, `${Math.random().toString(36).slice(2)}.db`) })
  const engine = createEngine({
    store,
    tasks: createTaskRegistry(createBuiltinTasks({ http })),
    clock: fakeClock(),
    newId: sequentialIds(),
    flowCacheMs: 0,
    ...(maxResultBytes === undefined ? {} : { maxResultBytes }),
  })
  open.push({ close: async () => (await engine.close({ graceMs: 0 }), await store.close()) })
  return engine
}

const call = (input: Record<string, unknown>, task: Record<string, unknown> = {}): { flow: unknown } => ({
  flow: { id: 'call', name: 'Call', start_task: 'call', tasks: [{ name: 'call', type: 'http', input, ...task }], conditions: [] },
})

let allowed: Engine
let closed: Engine
beforeAll(async () => {
  allowed = await engineWith({ allow: [`127.0.0.1:${target.port}`] })
  closed = await engineWith()
})

describe('the SSRF guard', () => {
  it('refuses a server on 127.0.0.1 by default, without retrying and without a request reaching it', async () => {
    target.route('/guarded', json(200, { secret: true }))
    const detail = await closed.run(call({ url: `${target.origin}/guarded` }, { retry: { max_attempts: 3, backoff_ms: 0 } }))
    expect(detail.execution.status).toBe('failed')
    expect(detail.runs).toHaveLength(1)
    expect(detail.runs[0]?.error).toMatchObject({ code: 'HTTP_DESTINATION_REFUSED', retryable: false })
    expect(detail.runs[0]?.error?.message).toContain(`refused to connect to 127.0.0.1 port ${target.port}, a loopback address`)
    expect(detail.runs[0]?.error?.message).toContain(`FLOW_MANAGER_HTTP_ALLOW=127.0.0.1:${target.port}`)
    expect(target.received.filter((r) => r.path === '/guarded')).toEqual([])
  })

  it('reaches the server when the allow list names its host:port, and only that port', async () => {
    target.route('/allowed', json(200, { ok: true }))
    expect((await allowed.run(call({ url: `${target.origin}/allowed` }))).runs[0]).toMatchObject({ status: 'success', data: { status: 200, body: { ok: true } } })
    const wrongPort = await allowed.run(call({ url: `${other.origin}/allowed` }))
    expect(wrongPort.runs[0]?.error?.code).toBe('HTTP_DESTINATION_REFUSED')
  })

  it('reaches the server when a CIDR of the allow list holds its address', async () => {
    const engine = await engineWith({ allow: ['10.0.0.0/8', '127.0.0.0/8'] })
    target.route('/cidr', text(200, 'in range'))
    expect((await engine.run(call({ url: `${target.origin}/cidr` }))).runs[0]?.data).toMatchObject({ status: 200, body: 'in range' })
    expect((await engine.run(call({ url: `http://[::ffff:127.0.0.1]:${target.port}/cidr` }))).runs[0]?.data).toMatchObject({ body: 'in range' })
  })

  it('refuses a redirect from an allowed server to an address that is not allowed, before connecting to it', async () => {
    target.route('/to-other', redirect(`${other.origin}/landing`))
    target.route('/to-metadata', redirect('http://169.254.169.254/latest/meta-data/', 307))
    other.route('/landing', text(200, 'should not be reached'))
    for (const path of ['/to-other', '/to-metadata']) {
      const detail = await allowed.run(call({ url: `${target.origin}${path}` }))
      expect(detail.runs[0]?.error).toMatchObject({ code: 'HTTP_DESTINATION_REFUSED', retryable: false })
    }
    expect(other.received.filter((r) => r.path === '/landing')).toEqual([])
  })

  it('refuses a host name that resolves to loopback, naming the name and the address', async () => {
    const engine = await engineWith({ resolve: (name) => Promise.resolve(name === 'internal.test' ? ['127.0.0.1'] : []) })
    const detail = await engine.run(call({ url: `http://internal.test:${target.port}/allowed` }))
    expect(detail.runs[0]?.error).toMatchObject({ code: 'HTTP_DESTINATION_REFUSED', retryable: false })
    expect(detail.runs[0]?.error?.message).toContain('"internal.test" port')
    expect(detail.runs[0]?.error?.message).toContain('resolves to 127.0.0.1 (a loopback address)')
  })

  it('connects to the address it checked: one resolution per connection, none by the socket', async () => {
    // The second answer would send a re-resolving client to 127.0.0.2, where nothing listens.
    const answers: string[][] = [['127.0.0.1'], ['127.0.0.2']]
    let calls = 0
    const engine = await engineWith({
      allow: [`127.0.0.1:${target.port}`],
      resolve: () => Promise.resolve(answers[Math.min(calls++, 1)] ?? []),
    })
    target.route('/pinned', (req, res) => res.end(req.headers.host))
    const detail = await engine.run(call({ url: `http://rebinding.test:${target.port}/pinned` }))
    expect(detail.runs[0]?.data).toMatchObject({ status: 200, body: `rebinding.test:${target.port}` })
    expect(calls).toBe(1)
  })

  it('refuses a cloud metadata name even when a CIDR covers its address, and allows it when named', async () => {
    const resolve = (): Promise<string[]> => Promise.resolve(['169.254.169.254'])
    const wide = await engineWith({ allow: ['169.254.0.0/16'], resolve })
    const refused = await wide.run(call({ url: 'http://metadata.google.internal/computeMetadata/v1/' }))
    expect(refused.runs[0]?.error?.code).toBe('HTTP_DESTINATION_REFUSED')
    expect(refused.runs[0]?.error?.message).toContain('169.254.169.254 (a cloud metadata address)')
    // A name on the allow list is trusted with whatever it resolves to (here, the test server).
    const named = await engineWith({ allow: ['metadata.google.internal'], resolve: () => Promise.resolve(['127.0.0.1']) })
    target.route('/computeMetadata/v1/', text(200, 'metadata'))
    expect((await named.run(call({ url: `http://metadata.google.internal:${target.port}/computeMetadata/v1/` }))).runs[0]?.data).toMatchObject({ body: 'metadata' })
  })
})

describe('requests and responses', () => {
  it('parses a JSON body, keeps text as text, and keeps a JSON type that does not parse as text', async () => {
    target.route('/json', json(200, { items: [1, 2] }))
    target.route('/problem', json(200, { title: 'x' }, 'application/problem+json'))
    target.route('/text', text(200, '{"looks": "like json"}'))
    target.route('/broken', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"cut'))
    const body = async (path: string): Promise<unknown> => ((await allowed.run(call({ url: `${target.origin}${path}` }))).runs[0]?.data as { body: unknown }).body
    expect(await body('/json')).toEqual({ items: [1, 2] })
    expect(await body('/problem')).toEqual({ title: 'x' })
    expect(await body('/text')).toBe('{"looks": "like json"}')
    expect(await body('/broken')).toBe('{"cut')
  })

  it('gives status and lower-case headers as data', async () => {
    target.route('/created', (_req, res) => res.writeHead(201, { 'X-Request-Id': 'r-1', 'content-type': 'text/plain' }).end('made'))
    const data = (await allowed.run(call({ url: `${target.origin}/created`, method: 'POST' }))).runs[0]?.data
    expect(data).toMatchObject({ status: 201, headers: { 'x-request-id': 'r-1', 'content-type': 'text/plain' }, body: 'made' })
  })

  it('sends an object body as JSON with its content-type, a string body as it is, and headers as given', async () => {
    target.route('/echo', (req, res, body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ type: req.headers['content-type'], body, auth: req.headers.authorization })))
    const sent = async (input: Record<string, unknown>): Promise<unknown> => ((await allowed.run(call({ url: `${target.origin}/echo`, method: 'POST', ...input }))).runs[0]?.data as { body: unknown }).body
    expect(await sent({ body: { order: 7 }, headers: { Authorization: 'Bearer t' } })).toEqual({ type: 'application/json', body: '{"order":7}', auth: 'Bearer t' })
    expect(await sent({ body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).toMatchObject({ type: 'application/x-www-form-urlencoded', body: 'a=1' })
  })

  it('follows redirects, turns POST into GET on 303, and drops credentials on the way to another origin', async () => {
    const both = await engineWith({ allow: ['127.0.0.1/32'] })
    target.route('/see-other', redirect(`${other.origin}/final`, 303))
    other.route('/final', (req, res, body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, auth: req.headers.authorization ?? null, body })))
    const detail = await both.run(call({ url: `${target.origin}/see-other`, method: 'POST', body: { a: 1 }, headers: { authorization: 'Bearer secret' } }))
    expect(detail.runs[0]?.data).toMatchObject({ status: 200, body: { method: 'GET', auth: null, body: '' } })
  })

  it('fails with HTTP_TOO_MANY_REDIRECTS on a redirect loop', async () => {
    target.route('/loop', redirect('/loop'))
    expect((await allowed.run(call({ url: `${target.origin}/loop` }))).runs[0]?.error).toMatchObject({ code: 'HTTP_TOO_MANY_REDIRECTS', retryable: false })
  })

  it('fails with a retryable HTTP_REQUEST_FAILED when nothing listens', async () => {
    const gone = await startHttpTarget()
    const port = gone.port
    await gone.close()
    const engine = await engineWith({ allow: [`127.0.0.1:${port}`] })
    const detail = await engine.run(call({ url: `http://127.0.0.1:${port}/` }))
    expect(detail.runs[0]?.error).toMatchObject({ code: 'HTTP_REQUEST_FAILED', retryable: true })
    expect(detail.runs[0]?.error?.message).toContain('ECONNREFUSED')
  })
})

describe('statuses and retries', () => {
  it.each([503, 429])('retries a %i and succeeds on the second attempt', async (status) => {
    target.route(`/flaky-${status}`, sequence(text(status, 'busy', { 'retry-after': '1' }), json(200, { done: true })))
    const detail = await allowed.run(call({ url: `${target.origin}/flaky-${status}` }, { retry: { max_attempts: 2, backoff_ms: 0 } }))
    expect(detail.execution.status).toBe('completed')
    expect(detail.runs.map((r) => r.status)).toEqual(['failure', 'success'])
    expect(detail.runs[0]?.error).toMatchObject({ code: 'HTTP_STATUS_UNEXPECTED', retryable: true })
    expect(detail.runs[0]?.error?.message).toContain(`answered ${status}`)
    expect(detail.runs[0]?.data).toMatchObject({ status, body: 'busy' })
    expect(detail.runs[1]?.data).toMatchObject({ status: 200, body: { done: true } })
  })

  it('does not retry a 404, and keeps the answer in the failed run', async () => {
    target.route('/missing', json(404, { error: 'no such order' }))
    const detail = await allowed.run(call({ url: `${target.origin}/missing?key=secret` }, { retry: { max_attempts: 3, backoff_ms: 0 } }))
    expect(detail.execution.status).toBe('failed')
    expect(detail.runs).toHaveLength(1)
    expect(detail.runs[0]?.error).toMatchObject({ code: 'HTTP_STATUS_UNEXPECTED', retryable: false })
    expect(detail.runs[0]?.error?.message).toBe(`GET ${target.origin}/missing answered 404 Not Found, outside expect_status [200, 299]`)
    expect(detail.runs[0]?.data).toMatchObject({ status: 404, body: { error: 'no such order' } })
  })

  it('counts the statuses of expect_status as success: one code, or a range', async () => {
    target.route('/gone', text(410, 'gone'))
    expect((await allowed.run(call({ url: `${target.origin}/gone`, expect_status: 410 }))).execution.status).toBe('completed')
    expect((await allowed.run(call({ url: `${target.origin}/gone`, expect_status: [400, 499] }))).execution.status).toBe('completed')
    expect((await allowed.run(call({ url: `${target.origin}/gone`, expect_status: 404 }))).execution.status).toBe('failed')
  })
})

describe('limits, timeouts and cancellation', () => {
  it('fails with HTTP_RESPONSE_TOO_LARGE when the declared length is over 10 MiB, without reading it', async () => {
    target.route('/declared', (_req, res) => {
      res.writeHead(200, { 'content-length': String(MAX_RESPONSE_BYTES + 1) })
      res.write('x')
    })
    const detail = await allowed.run(call({ url: `${target.origin}/declared` }))
    expect(detail.runs[0]?.error).toMatchObject({ code: 'HTTP_RESPONSE_TOO_LARGE', retryable: false })
  })

  it('stops reading an endless body at 10 MiB and closes the connection', async () => {
    const arrived = target.arrival('/endless')
    target.route('/endless', (_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 'a')
      const pump = (): void => {
        let more = true
        while (more && !res.destroyed) more = res.write(chunk)
      }
      res.on('drain', pump)
      pump()
    })
    const detail = await allowed.run(call({ url: `${target.origin}/endless` }))
    expect(detail.runs[0]?.error).toMatchObject({ code: 'HTTP_RESPONSE_TOO_LARGE' })
    expect(detail.runs[0]?.error?.message).toContain(`over the limit of ${MAX_RESPONSE_BYTES} bytes`)
    await (await arrived).closed
  })

  it('counts the decoded size, so a small compressed body that inflates past 10 MiB fails', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_RESPONSE_BYTES + 1024))
    target.route('/bomb', (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(bomb.length) }).end(bomb))
    expect(bomb.length).toBeLessThan(64 * 1024)
    expect((await allowed.run(call({ url: `${target.origin}/bomb` }))).runs[0]?.error?.code).toBe('HTTP_RESPONSE_TOO_LARGE')
  })

  it('accepts a body of exactly 10 MiB when the result limit allows it', async () => {
    const engine = await engineWith({ allow: [`127.0.0.1:${target.port}`] }, 16 * 1024 * 1024)
    target.route('/ten', text(200, 'b'.repeat(MAX_RESPONSE_BYTES)))
    const detail = await engine.run(call({ url: `${target.origin}/ten` }))
    // An execution's representation carries at most 8 MiB of data: the run read alone is whole.
    expect(detail.runs[0]?.dataOmitted).toBe(true)
    const data = (await engine.reads.taskRun(detail.execution.id, 1))?.data as { body: string }
    expect(data.body.length).toBe(MAX_RESPONSE_BYTES)
  })

  it('fails with a retryable HTTP_TIMEOUT after timeout_ms and closes the connection', async () => {
    const arrived = target.arrival('/slow')
    target.route('/slow', hang)
    const detail = await allowed.run(call({ url: `${target.origin}/slow`, timeout_ms: 200 }))
    expect(detail.runs[0]?.error).toMatchObject({ code: 'HTTP_TIMEOUT', retryable: true })
    expect(detail.runs[0]?.error?.message).toContain('took longer than timeout_ms (200 ms)')
    await (await arrived).closed
  })

  it('aborts the request when the execution is cancelled', async () => {
    const arrived = target.arrival('/held')
    target.route('/held', hang)
    const started = await allowed.start(call({ url: `${target.origin}/held` }))
    const { closed } = await arrived
    const cancelled = await allowed.cancel(started.executionId)
    expect(cancelled.execution.status).toBe('cancelled')
    await closed
  })
})

describe('URLs that are not http(s)', () => {
  it('refuses the flow when the URL is written in it, naming the path into the input', async () => {
    const error: unknown = await allowed.run(call({ url: 'file:///etc/passwd' })).catch((e: unknown) => e)
    expect(isFlowManagerError(error) && error.code).toBe('FLOW_INVALID')
    if (!isFlowManagerError(error)) return
    expect(error.issues).toEqual([
      expect.objectContaining({ code: 'TASK_INPUT_INVALID', path: '/tasks/0/input/url', message: expect.stringContaining('only http and https URLs can be called, not file:') }),
    ])
  })

  it('fails the task run with INPUT_INVALID when the URL comes from a mapping', async () => {
    const detail = await allowed.run(call({ url: '${input.url}' }), { input: { url: 'gopher://127.0.0.1:70/' } })
    expect(detail.runs[0]?.error).toMatchObject({ code: 'INPUT_INVALID', retryable: false })
    expect(detail.runs[0]?.error?.message).toContain('/url: only http and https URLs can be called, not gopher:')
  })
})
