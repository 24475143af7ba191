import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { createEngine, createTaskRegistry, defineTask, type Engine } from '../src/index.js'
import { openPostgresStore } from '../src/store/postgres/postgres-store.js'
import type { Store } from '../src/store/store.js'
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../test/support/postgres.js'
import { chainFlow, now, type BenchOptions, type BenchRow } from './bench-kit.js'

const TASKS = 10
const WORKER = fileURLToPath(new URL('./postgres-bench-worker.ts', import.meta.url))

interface Worker {
  readonly child: ChildProcess
  /** Resolves with the next message of the given type. */
  next(type: string): Promise<{ type: string; at?: number }>
}

function startWorker(url: string, maxConcurrent: number): Worker {
  const child = fork(WORKER, [url, String(maxConcurrent)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  type Waiter = { resolve: (message: { type: string; at?: number }) => void; reject: (error: Error) => void }
  const waiting = new Map<string, Waiter[]>()
  child.on('message', (message: { type: string; at?: number }) => waiting.get(message.type)?.shift()?.resolve(message))
  child.once('exit', (code) => {
    for (const [type, waiters] of waiting) for (const w of waiters) w.reject(new Error(`bench worker exited (${code}) before "${type}"`))
  })
  return {
    child,
    next: (type) => new Promise((resolve, reject) => waiting.set(type, [...(waiting.get(type) ?? []), { resolve, reject }])),
  }
}

async function stopWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(
    workers.map(async ({ child }) => {
      if (child.exitCode !== null) return
      const exited = once(child, 'exit')
      child.send({ type: 'stop' })
      await exited
    }),
  )
}

/** A producer that only queues executions (it runs none), as an HTTP node in front of workers would. */
async function producer(url: string): Promise<{ engine: Engine; store: Store }> {
  const store = await openPostgresStore({ url, poolSize: 8 })
  const noop = (name: string) => defineTask({ name, description: name, run: () => undefined })
  return { store, engine: createEngine({ store, tasks: createTaskRegistry([noop('nop'), noop('mark')]), maxConcurrent: 0 }) }
}

async function unfinished(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>(`select count(*) as n from executions where status in ('pending', 'running')`)
  return Number(result.rows[0]?.n ?? 0)
}

/**
 * Task transitions per second when `processes` worker processes run `executions` queued
 * executions of a 10-task no-op chain: each transition is a durable, lease-fenced step write.
 */
async function engineRate(url: string, processes: number, executions: number): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const workers = Array.from({ length: processes }, () => startWorker(url, 1000))
  try {
    const { engine, store } = await producer(url)
    await engine.registerFlow(chainFlow(TASKS, 'nop', 'bench'))
    const queued = await Promise.all(Array.from({ length: executions }, () => engine.start({ flowId: 'bench' })))
    // Each `done` reads the store until its execution ends elsewhere; closing the producer stops
    // them, so that only the workers load the database while they are measured.
    for (const { done } of queued) done.catch(() => undefined)
    await engine.close({ graceMs: 0 })
    await store.close()
    await Promise.all(workers.map((w) => w.next('ready')))
    const t0 = now()
    for (const w of workers) w.child.send({ type: 'go' })
    // Polled, not awaited: the work is spread over other processes; 5 ms is small beside the run.
    for (let deadline = t0 + 600_000, left = await unfinished(client); left > 0; left = await unfinished(client)) {
      if (process.env.FM_BENCH_DEBUG) console.log(Math.round(now() - t0), left)
      if (now() > deadline) throw new Error('the workers did not finish within 10 minutes')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    return (executions * TASKS) / ((now() - t0) / 1000)
  } finally {
    await stopWorkers(workers)
    await client.end()
  }
}

/**
 * Raw single-row commits from `connections` connections: per transition, one transaction that
 * inserts a task run and updates its execution, with synchronous_commit=on.
 */
async function rawRate(url: string, connections: number, perConnection: number): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      return client
    }),
  )
  try {
    const first = clients[0]!
    await first.query('select 1')
    await first.query(
      `insert into executions (id, flow_id, definition_hash, status, input, created_at, updated_at)
       select 'raw-' || i, 'raw', 'raw', 'running', '{}', 0, 0 from generate_series(0, $1::int - 1) i`,
      [connections],
    )
    const run = async (client: pg.Client, c: number): Promise<void> => {
      const id = `raw-${c}`
      for (let seq = 1; seq <= perConnection; seq++) {
        await client.query('begin')
        await client.query({
          name: 'raw-insert',
          text: `insert into task_runs (execution_id, seq, task_name, task_type, attempt, status, started_at) values ($1, $2, 't', 'nop', 1, 'running', $3)`,
          values: [id, seq, Date.now()],
        })
        await client.query({ name: 'raw-update', text: `update executions set steps = $2, updated_at = $3 where id = $1`, values: [id, seq, Date.now()] })
        await client.query('commit')
      }
    }
    const t0 = now()
    await Promise.all(clients.map((client, c) => run(client, c)))
    return (connections * perConnection) / ((now() - t0) / 1000)
  } finally {
    await Promise.all(clients.map((client) => client.end()))
  }
}

/** Milliseconds from queueing an execution to its first task starting on an idle worker process. */
async function queueToStart(url: string, samples: number): Promise<number[]> {
  const { engine, store } = await producer(url)
  const worker = startWorker(url, 16)
  try {
    await engine.registerFlow({ id: 'mark', name: 'mark', start_task: 'mark', tasks: [{ name: 'mark', type: 'mark' }], conditions: [] })
    await worker.next('ready')
    worker.child.send({ type: 'go' })
    const delays: number[] = []
    for (let i = 0; i < samples + 5; i++) {
      const started = worker.next('started')
      const finished = worker.next('finished')
      const queuedAt = performance.timeOrigin + performance.now()
      const { done } = await engine.start({ flowId: 'mark' })
      done.catch(() => undefined)
      const { at } = await started
      await finished
      // The first few warm up connections and prepared statements.
      if (i >= 5) delays.push((at ?? Number.NaN) - queuedAt)
    }
    return delays.sort((a, b) => a - b)
  } finally {
    await stopWorkers([worker])
    await engine.close({ graceMs: 0 })
    await store.close()
  }
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN

async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const database: TestDatabase = await createTestDatabase('fm_bench')
  try {
    return await fn(database.url)
  } finally {
    await database.drop()
  }
}

export async function postgresBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  try {
    await withDatabase(() => Promise.resolve())
  } catch (error) {
    return [{ name: `PostgreSQL benchmarks skipped: no PostgreSQL at ${ADMIN_URL} (${(error as Error).message})`, value: 0, unit: '' }]
  }
  const executions = quick ? 300 : 3000
  const perConnection = quick ? 500 : 3000
  const rows: BenchRow[] = []
  for (const processes of [1, 2]) {
    const raw = await withDatabase(async (url) => {
      await openPostgresStore({ url }).then((s) => s.close())
      return rawRate(url, processes, perConnection)
    })
    const ours = await withDatabase((url) => engineRate(url, processes, executions))
    rows.push({
      name: `durable transitions/s, PostgreSQL, ${processes} worker process${processes === 1 ? '' : 'es'}, ${executions.toLocaleString('en')} executions queued`,
      value: ours,
      unit: '/s',
      baseline: { name: `raw insert+update tx, 1 per commit, ${processes} connection${processes === 1 ? '' : 's'}`, value: raw },
      better: 'higher',
      goal: '> raw; > 15k/s',
    })
  }
  const delays = await withDatabase((url) => queueToStart(url, quick ? 50 : 300))
  rows.push(
    { name: 'queue to first task start, idle worker process, PostgreSQL, p50', value: percentile(delays, 50), unit: 'ms', better: 'lower', goal: '< 5 ms' },
    { name: 'queue to first task start, idle worker process, PostgreSQL, p99', value: percentile(delays, 99), unit: 'ms', better: 'lower', goal: '< 25 ms' },
  )
  return rows
}
