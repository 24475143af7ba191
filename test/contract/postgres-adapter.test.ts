import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import { openStore } from '../../src/store/open-store.js'
import type { Store } from '../../src/store/store.js'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'
import { create, newExecution, next, startRun, step, T0, write } from './steps.js'

const available = await pgAvailable()

/** One subscription to a store's work notifications; `next()` resolves at the next one. */
function workSignals(store: Store): { next: () => Promise<void>; stop: () => void } {
  let waiters: (() => void)[] = []
  const stop = store.subscribeWork!(() => {
    const wake = waiters
    waiters = []
    for (const resolve of wake) resolve()
  })
  return { next: () => new Promise((resolve) => waiters.push(resolve)), stop }
}

/** Waits until the LISTEN connection is up: a notification sent now arrives. */
async function listening(store: Store, signals: { next: () => Promise<void> }): Promise<void> {
  const arrived = signals.next()
  await eventually(async () => {
    await store.requestCancel('nothing', Date.now())
    await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('not listening yet')), 200))])
  })
}

/** Polls until `fn` succeeds, for at most `ms`: for a reconnect, which announces itself to nobody. */
async function eventually<T>(fn: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

async function sql(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await client.query(text, values)
  } finally {
    await client.end()
  }
}

describe.skipIf(!available)('the PostgreSQL adapter', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(() => database?.drop())

  it('migrates once when several processes open a new database at once', async () => {
    const fresh = await createTestDatabase()
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url: fresh.url, poolSize: 2 })))
      await Promise.all(stores.map((s) => s.close()))
      const applied = await sql(fresh.url, 'select name from kysely_migration')
      expect(applied.rows.map((r: { name: string }) => r.name)).toEqual(['001_init', '002_branches', '002_executions_finished'])
    } finally {
      await fresh.drop()
    }
  })

  it('is what openStore opens for postgres:// and postgresql:// URLs', async () => {
    for (const url of [database.url, database.url.replace(/^postgres:/, 'postgresql:')]) {
      const store = await openStore(url, { poolSize: 2, statementTimeoutMs: 5000 })
      expect(store.kind).toBe('postgres')
      await store.ping()
      await store.close()
    }
  })

  it('wakes subscribers on another connection when work is queued, a cancellation requested, a signal sent, a child started or a lease released', async () => {
    const producer = await openPostgresStore({ url: database.url, poolSize: 2 })
    const worker = await openPostgresStore({ url: database.url, poolSize: 2 })
    try {
      const signals = workSignals(worker)
      await listening(producer, signals)
      const queued = signals.next()
      await write(producer, create('notify-q', { owner: null }))
      await queued

      await write(producer, create('notify-r', { owner: 'n1' }))
      const cancel = signals.next()
      await producer.requestCancel('notify-r', Date.now())
      await cancel
      const child = newExecution('notify-child', { parent: { executionId: 'notify-r', seq: 2, task: 'sub' } })
      for (const action of [
        () => producer.addSignal('notify-r', 'go', '{}', Date.now()),
        () => producer.poke('notify-r', Date.now()),
        () => write(producer, step('notify-r', 'n1', { at: T0 + 1, seq: 2, runs: [startRun(2, 'sub', T0 + 1)], children: [child] })),
        () => producer.release('n1'),
      ]) {
        const woken = signals.next()
        await action()
        await woken
      }
      signals.stop()
    } finally {
      await producer.close()
      await worker.close()
    }
  })

  it('survives its connections being cut, reconnects, and tells subscribers to look for missed work', async () => {
    const store = await openPostgresStore({ url: database.url, poolSize: 3 })
    try {
      const signals = workSignals(store)
      await listening(store, signals)
      await write(store, create('cut-1', { owner: 'n1' }))
      const missed = signals.next()
      // As a database restart would: every connection of this database is terminated.
      await sql(database.url, 'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')
      await missed
      await eventually(() => store.ping())
      await eventually(() => write(store, next('cut-1', 'n1', 1)))
      expect((await store.getExecution('cut-1'))?.runs).toHaveLength(2)
      signals.stop()
    } finally {
      await store.close()
    }
  })

  it('commits pending writes before it closes', async () => {
    const store = await openPostgresStore({ url: database.url, poolSize: 2 })
    const pending = Array.from({ length: 20 }, (_, i) => write(store, create(`close-${i}`, { owner: 'n1' })))
    await store.close()
    await Promise.all(pending)
    await expect(write(store, create('after-close', { owner: 'n1' }))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
    const count = await sql(database.url, `select count(*)::int as n from executions where id like 'close-%'`)
    expect(count.rows[0]).toEqual({ n: 20 })
  })

  it('cancels a statement that runs longer than the statement timeout', async () => {
    const store = await openPostgresStore({ url: database.url, poolSize: 2, statementTimeoutMs: 100 })
    try {
      const locker = new pg.Client({ connectionString: database.url })
      await locker.connect()
      try {
        await write(store, create('locked', { owner: 'n1' }))
        await locker.query('begin')
        await locker.query(`select * from executions where id = 'locked' for update`)
        // The step waits for the row lock until the server gives up on it.
        await expect(write(store, next('locked', 'n1', 1))).rejects.toMatchObject({ code: '57014' })
        await locker.query('rollback')
        await write(store, next('locked', 'n1', 1))
      } finally {
        await locker.end()
      }
    } finally {
      await store.close()
    }
  })
})
