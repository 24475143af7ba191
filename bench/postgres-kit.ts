import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { createEngine, createTaskRegistry, defineTask, type Engine } from '../src/index.js'
import { openPostgresStore } from '../src/store/postgres/postgres-store.js'
import type { Store } from '../src/store/store.js'
import { createTestDatabase } from '../test/support/postgres.js'
import { chainFlow, now } from './bench-kit.js'

/** The PostgreSQL benchmarks' flow: a chain of 10 no-op tasks. */
export const TASKS = 10
const WORKER = fileURLToPath(new URL('./postgres-bench-worker.ts', import.meta.url))

export interface Worker {
  readonly child: ChildProcess
  /** Resolves with the next message of the given type. */
  next(type: string): Promise<{ type: string; at?: number }>
}

/** A worker process (bench/postgres-bench-worker.ts): it takes work from the database once sent `go`. */
export function startWorker(url: string, maxConcurrent: number): Worker {
  const child = fork(WORKER, [url, String(maxConcurrent)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  type Message = { type: string; at?: number }
  type Waiter = { resolve: (message: Message) => void; reject: (error: Error) => void }
  const waiting = new Map<string, Waiter[]>()
  // Messages nobody waits for yet (a worker may be ready before we ask), in order.
  const early = new Map<string, Message[]>()
  child.on('message', (message: Message) => {
    const waiter = waiting.get(message.type)?.shift()
    if (waiter !== undefined) waiter.resolve(message)
    else early.set(message.type, [...(early.get(message.type) ?? []), message])
  })
  let exited: Error | undefined
  child.once('exit', (code) => {
    exited = new Error(`bench worker exited (${code})`)
    for (const [type, waiters] of waiting) for (const w of waiters) w.reject(new Error(`bench worker exited (${code}) before "${type}"`))
  })
  return {
    child,
    next: (type) =>
      new Promise((resolve, reject) => {
        const message = early.get(type)?.shift()
        if (message !== undefined) resolve(message)
        else if (exited !== undefined) reject(exited)
        else waiting.set(type, [...(waiting.get(type) ?? []), { resolve, reject }])
      }),
  }
}

export async function stopWorkers(workers: readonly Worker[]): Promise<void> {
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
export async function producer(url: string): Promise<{ engine: Engine; store: Store }> {
  const store = await openPostgresStore({ url, poolSize: 8 })
  const noop = (name: string) => defineTask({ name, description: name, run: () => undefined })
  return { store, engine: createEngine({ store, tasks: createTaskRegistry([noop('nop'), noop('mark')]), maxConcurrent: 0 }) }
}

/** Queues `executions` executions of the benchmark chain, then closes the producer, so that only workers load the database. */
export async function queueChains(url: string, executions: number): Promise<void> {
  const { engine, store } = await producer(url)
  await engine.registerFlow(chainFlow(TASKS, 'nop', 'bench'))
  const queued = await Promise.all(Array.from({ length: executions }, () => engine.start({ flowId: 'bench' })))
  // Each `done` would read the store until its execution ends elsewhere; closing the producer stops them.
  for (const { done } of queued) done.catch(() => undefined)
  await engine.close({ graceMs: 0 })
  await store.close()
}

export async function unfinished(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>(`select count(*) as n from executions where status in ('pending', 'running')`)
  return Number(result.rows[0]?.n ?? 0)
}

/**
 * Sends `go` to every worker and resolves with the seconds until no execution is unfinished, and
 * how many times that was asked (each one a transaction of its own, every 5 ms: small beside the run).
 */
export async function runToEnd(client: pg.Client, workers: readonly Worker[]): Promise<{ seconds: number; polls: number }> {
  const t0 = now()
  for (const w of workers) w.child.send({ type: 'go' })
  let polls = 1
  for (let deadline = t0 + 600_000, left = await unfinished(client); left > 0; left = await unfinished(client), polls++) {
    if (now() > deadline) throw new Error('the workers did not finish within 10 minutes')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return { seconds: (now() - t0) / 1000, polls }
}

export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  return client
}

/** Runs `fn` on a new database of its own, dropped afterwards. */
export async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const database = await createTestDatabase('fm_bench')
  try {
    return await fn(database.url)
  } finally {
    await database.drop()
  }
}
