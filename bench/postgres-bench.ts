import { cpus } from 'node:os'
import type pg from 'pg'
import { openPostgresStore } from '../src/store/postgres/postgres-store.js'
import { ADMIN_URL } from '../test/support/postgres.js'
import { now, percentile, type BenchOptions, type BenchRow } from './bench-kit.js'
import { backendPids, cpuBetween, cpuSnapshot } from './pg-cost.js'
import { connect, producer, queueChains, runToEnd, startWorker, stopWorkers, TASKS, withDatabase } from './postgres-kit.js'

/**
 * Task transitions per second when `processes` worker processes run `executions` queued
 * executions of a 10-task no-op chain: each transition is a durable, lease-fenced step write.
 * The clock runs from `go` to the last execution's end; queueing them is not counted.
 */
async function engineRate(url: string, processes: number, executions: number): Promise<{ perSecond: number; cpuUs: number }> {
  const client = await connect(url)
  const workers = Array.from({ length: processes }, () => startWorker(url, 1000))
  try {
    await queueChains(url, executions)
    await Promise.all(workers.map((w) => w.next('ready')))
    // CPU of the worker processes and of PostgreSQL's backends over the run (Linux's /proc), per transition.
    const pids = [...(await backendPids(client)), ...workers.map((w) => w.child.pid!)]
    const before = cpuSnapshot(pids)
    const { seconds } = await runToEnd(client, workers)
    const after = cpuSnapshot([...new Set([...pids, ...(await backendPids(client))])])
    const transitions = executions * TASKS
    return { perSecond: transitions / seconds, cpuUs: (cpuBetween(before, after, [...after.keys()]) * 1e6) / transitions }
  } finally {
    await stopWorkers(workers)
    await client.end()
  }
}

/**
 * Raw single-row commits from `connections` connections: per transition, one transaction that
 * inserts a task run and updates its execution (prepared statements), with synchronous_commit=on.
 */
async function rawRate(url: string, connections: number, perConnection: number): Promise<number> {
  const clients = await Promise.all(Array.from({ length: connections }, () => connect(url)))
  try {
    await clients[0]!.query(
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

/**
 * Milliseconds from queueing an execution (a producer's `start`, which commits it and notifies)
 * to its first task starting in an idle worker process (woken by LISTEN/NOTIFY), one at a time.
 */
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

/**
 * The least the same path costs PostgreSQL here, without our code: a producer commits a row and a
 * notification in one statement (flushed), a listening connection hears it, claims the row with an
 * `UPDATE … FOR UPDATE SKIP LOCKED` (not flushed, as our claims), and records the start of its run
 * (flushed) before the "task" begins. Milliseconds per execution, one at a time.
 */
async function rawQueueToStart(url: string, samples: number): Promise<number[]> {
  const setup = await connect(url)
  const producerClient = await connect(url)
  const listener = await connect(url)
  const claimer = await connect(url)
  const recorder = await connect(url)
  try {
    await setup.query('create table raw_queue (id text primary key, owner text, created double precision not null)')
    await setup.query('create index raw_queue_due on raw_queue (created) where owner is null')
    await setup.query('create table raw_runs (id text primary key, started double precision not null)')
    await claimer.query('set synchronous_commit = off')
    await listener.query('listen raw_queue')
    let heard: (() => void) | undefined
    listener.on('notification', () => heard?.())
    const delays: number[] = []
    for (let i = 0; i < samples + 5; i++) {
      const notified = new Promise<void>((resolve) => (heard = resolve))
      const t0 = now()
      await producerClient.query({ name: 'raw_queue', text: `with q as (insert into raw_queue (id, created) values ($1, $2)) select pg_notify('raw_queue', $1)`, values: [`q${i}`, Date.now()] })
      await notified
      const claimed = await claimer.query({
        name: 'raw_claim',
        text: `update raw_queue set owner = 'w' where id in (select id from raw_queue where owner is null order by created limit 16 for update skip locked) returning id`,
      })
      const id = (claimed.rows[0] as { id: string } | undefined)?.id ?? ''
      await recorder.query({ name: 'raw_start', text: 'insert into raw_runs (id, started) values ($1, $2)', values: [id, Date.now()] })
      if (i >= 5) delays.push(now() - t0)
    }
    return delays.sort((a, b) => a - b)
  } finally {
    await Promise.all([setup, producerClient, listener, claimer, recorder].map((c) => c.end()))
  }
}

export async function postgresBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  try {
    await withDatabase(() => Promise.resolve())
  } catch (error) {
    return [{ name: `PostgreSQL benchmarks skipped: no PostgreSQL at ${ADMIN_URL} (${(error as Error).message})`, value: Number.NaN, unit: '' }]
  }
  const executions = quick ? 300 : 3000
  const perConnection = quick ? 300 : 2000
  const rows: BenchRow[] = []
  for (const processes of [1, 2]) {
    const raw = await withDatabase(async (url) => {
      await openPostgresStore({ url }).then((s) => s.close())
      return rawRate(url, processes, perConnection)
    })
    const ours = await withDatabase((url) => engineRate(url, processes, executions))
    rows.push({
      name: `durable transitions/s, PostgreSQL, ${processes} worker process${processes === 1 ? '' : 'es'}, ${executions.toLocaleString('en')} executions of a ${TASKS}-task chain queued`,
      value: ours.perSecond,
      unit: '/s',
      baseline: { name: `raw single-row commits (insert a run + update the execution), ${processes} connection${processes === 1 ? '' : 's'}`, value: raw },
      better: 'higher',
      goal: processes === 2 ? '> 15k/s' : '> raw',
    })
    if (processes === 2 && ours.cpuUs > 0) {
      const cores = cpus().length
      rows.push({
        name: `  its physical limit: ${cores} cores / the CPU one transition took in the worker processes and PostgreSQL together (${ours.cpuUs.toFixed(0)} µs)`,
        value: (cores * 1e6) / ours.cpuUs,
        unit: '/s',
        better: 'higher',
      })
    }
  }
  const samples = quick ? 50 : 300
  const delays = await withDatabase((url) => queueToStart(url, samples))
  const floor = await withDatabase((url) => rawQueueToStart(url, samples))
  const path = 'the same path in raw SQL (commit + notify, claim, recorded start), in-process'
  rows.push(
    { name: 'queue to first task start, idle worker process, PostgreSQL, p50', value: percentile(delays, 50), unit: 'ms', baseline: { name: path, value: percentile(floor, 50) }, better: 'lower', goal: '< 5 ms' },
    { name: 'queue to first task start, idle worker process, PostgreSQL, p99', value: percentile(delays, 99), unit: 'ms', baseline: { name: path, value: percentile(floor, 99) }, better: 'lower', goal: '< 25 ms' },
  )
  return rows
}
