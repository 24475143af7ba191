import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { createExecutionFeed, type FeedEvent } from '../../src/http/execution-feed.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { openStore } from '../../src/store/open-store.js'
import type { ExecutionFilter, Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import { tempDir } from '../fixtures/engine.js'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'
import { SseReader, type SseMessage } from '../support/sse-reader.js'
import { createTestApp, expectProblem, SEED } from './helpers.js'

/** A task that waits until the test opens it. */
function gate(): { task: ReturnType<typeof defineTask>; open: () => void } {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { task: defineTask({ name: 'gate', description: 'waits for the test', run: async () => (await opened, { opened: true }) }), open }
}
const GATED = { id: 'gated', name: 'Gated', start_task: 'wait', tasks: [{ name: 'wait', type: 'gate' }], conditions: [] }

const about = (id: string, type: string) => (m: SseMessage) => m.event === type && m.data?.execution_id === id

async function start(url: string, body: unknown): Promise<{ execution_id: string; status: string }> {
  const res = await fetch(`${url}/api/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return (await res.json()) as { execution_id: string; status: string }
}

describe('GET /api/v1/events on one node', () => {
  const g = gate()
  let store: Store
  let server: RunningServer
  beforeAll(async () => {
    store = await openStore('sqlite::memory:')
    const engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, g.task]) })
    // No poll within the test: what arrives came from this node's engine at once.
    server = await startServer({ engine, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), graceMs: 0, app: { listPollMs: 3_600_000 } })
  })
  afterAll(async () => {
    await server.close()
    await store.close()
  })

  it('tells a list at once when an execution is created and when it finishes, with its summary but not its input', async () => {
    const stream = new SseReader(`${server.url}/api/v1/events`)
    try {
      expect((await stream.response).headers.get('content-type')).toMatch(/^text\/event-stream/)
      await stream.positioned()
      const { execution_id: id } = await start(server.url, { flow: GATED, input: { secret: 'large' }, wait: false })
      const created = await stream.until(about(id, 'execution_created'), 'the execution was created')
      expect(created.data).toMatchObject({ type: 'execution_created', execution_id: id, flow_id: 'gated', flow_version: null, status: 'running', finished_at: null })
      expect(created.data).not.toHaveProperty('input')
      g.open()
      const finished = await stream.until(about(id, 'execution_finished'), 'the execution finished')
      expect(finished.data).toMatchObject({ status: 'completed', duration_ms: expect.any(Number) })
      expect(Number(finished.data?.event_seq)).toBeGreaterThan(Number(created.data?.event_seq))
      expect(stream.messages.filter((m) => m.data?.execution_id === id).map((m) => m.event)).toEqual(['execution_created', 'execution_finished'])
    } finally {
      stream.close()
    }
  })

  it('replays what changed while a client was away when it comes back with Last-Event-ID, or with since', async () => {
    const first = new SseReader(`${server.url}/api/v1/events`)
    const position = await first.positioned()
    first.close()
    const before = new Date().toISOString()
    const missed = [await start(server.url, { flow: SEED }), await start(server.url, { flow: SEED, input: { fail: ['task2'] } })]
    expect(missed.map((e) => e.status)).toEqual(['completed', 'failed'])

    for (const [how, url, headers] of [
      ['Last-Event-ID', `${server.url}/api/v1/events`, { 'last-event-id': position }],
      ['since', `${server.url}/api/v1/events?since=${encodeURIComponent(before)}`, {}],
    ] as const) {
      const back = new SseReader(url, headers)
      try {
        const told = await Promise.all(missed.map((e) => back.until(about(e.execution_id, 'execution_finished'), `${how}: the replay of ${e.execution_id}`)))
        expect(told.map((m) => m.data?.status), how).toEqual(['completed', 'failed'])
      } finally {
        back.close()
      }
    }
  })

  it('answers 400 for a Last-Event-ID it did not send and for a since that is not a time', async () => {
    const t = await createTestApp()
    try {
      const header = expectProblem(await t.app.inject({ url: '/api/v1/events', headers: { 'last-event-id': 'yesterday' } }), 400, 'REQUEST_INVALID')
      expect(header.errors[0]).toMatchObject({ path: '/last-event-id' })
      const since = expectProblem(await t.app.inject({ url: '/api/v1/events?since=1999' }), 400, 'REQUEST_INVALID')
      expect(since.errors[0]).toMatchObject({ path: '/since' })
    } finally {
      await t.close()
    }
  })

  it('needs an API key like the other API routes', async () => {
    const t = await createTestApp({ apiKeys: ['k'] })
    try {
      expectProblem(await t.app.inject({ url: '/api/v1/events' }), 401, 'UNAUTHORIZED')
    } finally {
      await t.close()
    }
  })
})

describe('the list feed', () => {
  it('reads the store once per poll for changes another node made, whatever the number of listeners', async () => {
    const dir = tempDir()
    const path = `sqlite:${join(dir.path, 'shared.db')}`
    const stores = [await openStore(path), await openStore(path)]
    const changedQueries: ExecutionFilter[] = []
    const counted: Store = { ...stores[0]!, listExecutions: (filter) => (filter.changedSince !== undefined && changedQueries.push(filter), stores[0]!.listExecutions(filter)) }
    const here = createEngine({ store: counted, tasks: createTaskRegistry(builtinTasks) })
    const elsewhere = createEngine({ store: stores[1]!, tasks: createTaskRegistry(builtinTasks) })
    const feed = createExecutionFeed({ engine: here, pollMs: 3_600_000, log: pino({ level: 'silent' }) })
    try {
      const heard: FeedEvent[][] = [[], [], []]
      const stops = heard.map((list) => feed.subscribe((event) => list.push(event)))
      const done = await elsewhere.run({ flow: SEED })
      await feed.poll()
      for (const list of heard) expect(list.map((e) => [e.type, e.executionId, e.data.status])).toEqual([['execution_finished', done.execution.id, 'completed']])
      expect(changedQueries).toHaveLength(1)
      // Nothing changed since: the next poll tells nobody anything.
      await feed.poll()
      expect(heard.map((list) => list.length)).toEqual([1, 1, 1])
      for (const stop of stops) stop()
    } finally {
      feed.close()
      await here.close({ graceMs: 0 })
      await elsewhere.close({ graceMs: 0 })
      for (const store of stores) await store.close()
      dir.remove()
    }
  })
})

const pg = await pgAvailable()

describe.skipIf(!pg)('GET /api/v1/events with two nodes on one PostgreSQL database', () => {
  let database: TestDatabase
  const servers: RunningServer[] = []
  const stores: Store[] = []
  const engines: Engine[] = []
  beforeAll(async () => {
    database = await createTestDatabase('fm_list_events')
    for (let i = 0; i < 2; i++) {
      const store = await openStore(database.url)
      stores.push(store)
      const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
      engines.push(engine)
      servers.push(await startServer({ engine, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), graceMs: 0, app: { listPollMs: 100 } }))
    }
  })
  afterAll(async () => {
    for (const server of servers) await server.close()
    for (const store of stores) await store.close()
    await database?.drop()
  })

  it('tells a client of one node about executions another node runs', async () => {
    const stream = new SseReader(`${servers[0]!.url}/api/v1/events`)
    try {
      await stream.positioned()
      const { execution_id: id } = await start(servers[1]!.url, { flow: { ...SEED, tasks: SEED.tasks.map((t) => ({ ...t, type: 'delay', input: { ms: 1 } })) }, wait: true })
      const finished = await stream.until(about(id, 'execution_finished'), 'the other node finished the execution')
      expect(finished.data).toMatchObject({ execution_id: id, status: 'completed' })
    } finally {
      stream.close()
    }
  })
})
