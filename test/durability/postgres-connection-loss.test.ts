import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import type { ExecutionView } from '../../src/engine/execution-view.js'
import { buildApp } from '../../src/http/app.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import { ADMIN_URL, createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'

/**
 * PostgreSQL connections terminated again and again while clients start executions through the
 * API: no answer is a 500, a 503 comes with Retry-After, a client that retries with its idempotency
 * key gets one execution per key, and every execution stored ends (none waits for its lease).
 */

const available = await pgAvailable()
const KEYS = 80
const CLIENTS = 12

const flow = {
  id: 'two-steps',
  name: 'Two steps',
  start_task: 'a',
  tasks: [{ name: 'a', type: 'noop' }, { name: 'b', type: 'noop' }],
  conditions: [{ name: 'next', source_task: 'a', outcome: 'success', target_task_success: 'b', target_task_failure: 'end' }],
}

describe.skipIf(!available)('PostgreSQL connections terminated under load', () => {
  let database: TestDatabase
  let store: Store
  let engine: Engine
  let app: FastifyInstance

  beforeAll(async () => {
    database = await createTestDatabase('fm_conn_loss')
    store = await openPostgresStore({ url: database.url, poolSize: 6 })
    // A lease of ten minutes: an execution stalled by a lost connection must be handed back to go on.
    engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks), leaseMs: 600_000, pollMs: 100 })
    app = await buildApp({ engine, logger: 'silent' })
    await app.ready()
    engine.startWorker()
  })
  afterAll(async () => {
    await app?.close()
    await engine?.close({ graceMs: 0 })
    await store?.close()
    await database?.drop()
  })

  it('answers no 500, stores one execution per idempotency key, and ends every one', { timeout: 180_000 }, async () => {
    const killer = new pg.Client({ connectionString: ADMIN_URL })
    killer.on('error', () => undefined)
    await killer.connect()
    const name = new URL(database.url).pathname.slice(1)
    let killing = true
    let kills = 0
    const kill = (async () => {
      while (killing) {
        const result = await killer.query<{ killed: boolean }>('select pg_terminate_backend(pid) as killed from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name])
        kills += result.rows.filter((r) => r.killed).length
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    })()

    const statuses = new Map<number, number>()
    const idByKey = new Map<string, string>()
    const withoutRetryAfter: number[] = []
    const keys = Array.from({ length: KEYS }, (_, i) => `order-${i}`)
    const client = async (): Promise<void> => {
      for (let key = keys.shift(); key !== undefined; key = keys.shift()) {
        for (let attempt = 0; attempt < 500; attempt++) {
          const response = await app.inject({
            method: 'POST',
            url: '/api/v1/executions',
            headers: { 'idempotency-key': key },
            payload: { flow, input: { key }, wait_ms: 2000 },
          })
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
          if (response.statusCode === 200 || response.statusCode === 202) {
            const id = response.json<ExecutionView>().execution_id
            const earlier = idByKey.get(key)
            if (earlier !== undefined && earlier !== id) throw new Error(`key ${key} answered ${earlier} then ${id}`)
            idByKey.set(key, id)
            if (response.statusCode === 202) expect(response.headers.location).toBe(`/api/v1/executions/${id}`)
            break
          }
          if (response.statusCode !== 503) throw new Error(`answered ${response.statusCode}: ${response.body}`)
          if (response.headers['retry-after'] === undefined) withoutRetryAfter.push(response.statusCode)
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
    }
    try {
      await Promise.all(Array.from({ length: CLIENTS }, client))
    } finally {
      killing = false
      await kill
      await killer.end()
    }

    // The connections were cut often enough to matter, and the API said 503 (with Retry-After), never 500.
    expect(kills).toBeGreaterThan(20)
    expect([...statuses.keys()].filter((s) => s !== 200 && s !== 202 && s !== 503)).toEqual([])
    expect(withoutRetryAfter).toEqual([])
    // One execution per key, and nothing else stored.
    expect(idByKey.size).toBe(KEYS)
    expect(new Set(idByKey.values()).size).toBe(KEYS)
    const stored = await store.listExecutions({ limit: 500 })
    expect(stored.items.map((e) => e.idempotencyKey).sort()).toEqual([...idByKey.keys()].sort())
    // Every one ends, each with both tasks run once to success at the end.
    for (const id of idByKey.values()) {
      const detail = await engine.waitForEnd(id)
      expect(detail.execution.status).toBe('completed')
      expect(detail.runs.filter((r) => r.status === 'success').map((r) => r.taskName)).toEqual(['a', 'b'])
    }
  })
})
