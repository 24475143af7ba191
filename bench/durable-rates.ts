import BetterSqlite3 from 'better-sqlite3'
import { builtinTasks, createEngine, createTaskRegistry, openSqliteStore, type Flow } from '../src/index.js'
import { diskWrites, now, type DurableRate } from './bench-kit.js'
import { startServe } from './processes.js'

/** Executions run before the clock starts, so that JIT compilation and the first pages count against neither figure. */
const WARM_UP = 20

/**
 * Recorded transitions per second of the engine in this process: `executions` executions of
 * `flow` started at once, `rounds` times (every one runs at once: this measures group commit, not the queue) on a
 * SQLite file with the store's defaults (synchronous=FULL), with the built-in task types.
 */
export async function inProcessRate(path: string, flow: Flow, executions: number, rounds = 1): Promise<DurableRate> {
  const store = await openSqliteStore({ path })
  const engine = createEngine({ store, maxConcurrent: executions, tasks: createTaskRegistry(builtinTasks) })
  try {
    await engine.registerFlow(flow)
    const round = async (count: number): Promise<void> => {
      const started = await Promise.all(Array.from({ length: count }, () => engine.start({ flowId: flow.id })))
      const ended = await Promise.all(started.map((s) => s.done))
      if (ended.some((d) => d.execution.status !== 'completed')) throw new Error('an in-process execution did not complete')
    }
    await round(Math.min(WARM_UP, executions))
    const transitions = rounds * executions * flow.tasks.length
    const written = diskWrites()
    const t0 = now()
    for (let r = 0; r < rounds; r++) await round(executions)
    return { perSecond: transitions / ((now() - t0) / 1000), bytesPerTransition: (diskWrites() - written) / transitions }
  } finally {
    await engine.close()
    await store.close()
  }
}

async function call(url: string, init: { method: 'GET' | 'POST'; body?: unknown }, expected: number): Promise<unknown> {
  const response = await fetch(url, {
    method: init.method,
    ...(init.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
  })
  const text = await response.text()
  if (response.status !== expected) throw new Error(`${init.method} ${url} answered ${response.status}, not ${expected}: ${text.slice(0, 300)}`)
  return JSON.parse(text)
}

/** Runs `fn` for 0..count-1 with at most `width` at once. */
async function pool(count: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const lane = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) await fn(i)
  }
  await Promise.all(Array.from({ length: Math.min(width, count) }, lane))
}

/**
 * Recorded transitions per second through a real `flow-manager serve` process (dist/, logs at
 * info, SQLite FULL, FLOW_MANAGER_MAX_CONCURRENT = `executions`): `flow` is registered over HTTP,
 * then `executions` executions are posted with `wait: false` (32 requests at a time), and the
 * clock runs from the first post until the last execution has ended. The end is seen by reading
 * the database file from this process (the unfinished-executions index, every 10 ms), which costs
 * the server nothing, unlike polling its API.
 */
export async function serveRate(path: string, flow: Flow, executions: number): Promise<DurableRate> {
  const serve = await startServe(path, { FLOW_MANAGER_MAX_CONCURRENT: String(executions) })
  const reader = new BetterSqlite3(path, { readonly: true })
  try {
    const unfinished = reader.prepare(`select count(*) as n from executions where status in ('pending', 'running')`)
    const left = (): number => (unfinished.get() as { n: number }).n
    await call(`${serve.url}/api/v1/flows`, { method: 'POST', body: flow }, 201)
    const post = (wait: boolean): Promise<unknown> => call(`${serve.url}/api/v1/executions`, { method: 'POST', body: { flow_id: flow.id, wait } }, wait ? 200 : 202)
    await pool(Math.min(WARM_UP, executions), 32, () => post(true))
    const written = diskWrites(serve.pid)
    const t0 = now()
    await pool(executions, 32, () => post(false))
    while (left() > 0) await new Promise((resolve) => setTimeout(resolve, 10))
    const seconds = (now() - t0) / 1000
    const transitions = executions * flow.tasks.length
    const bytesPerTransition = (diskWrites(serve.pid) - written) / transitions
    const failed = reader.prepare(`select count(*) as n from executions where status <> 'completed'`).get() as { n: number }
    if (failed.n > 0) throw new Error(`${failed.n} executions through serve did not complete`)
    if (serve.errors.length > 0) throw new Error(`serve logged ${serve.errors.length} errors, e.g. ${serve.errors[0]}`)
    return { perSecond: transitions / seconds, bytesPerTransition }
  } finally {
    reader.close()
    await serve.stop()
  }
}
