import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { ADMIN_URL } from '../test/support/postgres.js'
import { median } from './bench-kit.js'
import { backendPids, counters, cpuBetween, cpuSnapshot, resetStatements, statementCosts, statementsAvailable, walBytesBetween, walLsn, type StatementCost } from './pg-cost.js'
import { connect, queueChains, runToEnd, startWorker, stopWorkers, TASKS, withDatabase } from './postgres-kit.js'

/**
 * The figures of docs/scaling.md: what one durable transition costs PostgreSQL, and how the rate
 * moves with the number of worker processes. `npm run bench:scaling [-- --workers 1,2,4]
 * [--executions 6000] [--slots 500] [--rounds 2]` runs, for each worker count and round, `executions` queued executions
 * of a 10-task no-op chain on a fresh database, each worker running at most `slots` at once.
 * Per-statement time needs pg_stat_statements in shared_preload_libraries; without it that part
 * is skipped with a notice. CPU times come from /proc, so they need the database on this machine.
 */
interface RunCost {
  readonly workers: number
  readonly transitions: number
  readonly seconds: number
  readonly nodeCpu: number
  readonly pgCpu: number
  readonly walBytes: number
  readonly walSyncs: number | undefined
  readonly walFpi: number | undefined
  /** Milliseconds spent in WAL flushes (track_wal_io_timing), or 0 when not timed. */
  readonly walSyncMs: number | undefined
  readonly commits: number
  readonly statements: readonly StatementCost[] | undefined
  readonly load: number
}

const instrumentation = (query: string): boolean => /pg_stat|pg_current_wal_lsn|pg_wal_lsn_diff|count\(\*\) as n from executions|pg_backend_pid/.test(query)

async function measure(workers: number, executions: number, slots: number): Promise<RunCost> {
  return withDatabase(async (url) => {
    const client = await connect(url)
    const stats = await statementsAvailable(client)
    const procs = Array.from({ length: workers }, () => startWorker(url, slots))
    try {
      await queueChains(url, executions)
      await Promise.all(procs.map((w) => w.next('ready')))
      const workerPids = procs.map((w) => w.child.pid!)
      if (stats) await resetStatements(client)
      const counted = await counters(client)
      const lsn = await walLsn(client)
      const cpu = cpuSnapshot([...(await backendPids(client)), ...workerPids])
      const load = loadavg()[0]!
      const { seconds, polls } = await runToEnd(client, procs)
      const backends = await backendPids(client)
      const cpuAfter = cpuSnapshot([...backends, ...workerPids])
      const walBytes = await walBytesBetween(client, lsn, await walLsn(client))
      // Backends report their counters at most once a second.
      await sleep(1500)
      const countedAfter = await counters(client)
      const statements = stats ? (await statementCosts(client)).filter((s) => !instrumentation(s.query)) : undefined
      const delta = (pick: (c: typeof counted) => number | undefined): number | undefined => {
        const [a, b] = [pick(counted), pick(countedAfter)]
        return a === undefined || b === undefined ? undefined : b - a
      }
      return {
        workers,
        transitions: executions * TASKS,
        seconds,
        nodeCpu: cpuBetween(cpu, cpuAfter, workerPids),
        pgCpu: cpuBetween(cpu, cpuAfter, backends),
        walBytes,
        walSyncs: delta((c) => c.wal?.syncs),
        walFpi: delta((c) => c.wal?.fpi),
        walSyncMs: delta((c) => c.wal?.syncMs),
        // Less our own reads: the polls, and the three reads of WAL position and backends since the first counters.
        commits: (delta((c) => c.commits) ?? Number.NaN) - polls - 3,
        statements,
        load,
      }
    } finally {
      await stopWorkers(procs)
      await client.end()
    }
  })
}

const us = (seconds: number, transitions: number): string => ((seconds * 1e6) / transitions).toFixed(1)
const perK = (n: number | undefined, transitions: number): string => (n === undefined ? 'n/a' : ((n * 1000) / transitions).toFixed(1))
const flushMs = (r: RunCost): string => (r.walSyncMs === undefined || r.walSyncMs === 0 || r.walSyncs === undefined || r.walSyncs === 0 ? 'n/a' : (r.walSyncMs / r.walSyncs).toFixed(2))
const isClaim = (s: StatementCost): boolean => /for update skip locked/i.test(s.query)

function report(runs: readonly RunCost[]): string {
  const cores = cpus().length
  const lines = [
    `PostgreSQL cost of a durable transition: ${TASKS}-task no-op chains, ${cores} cores, ${ADMIN_URL.replace(/\/\/[^@]*@/, '//')}`,
    '',
    '| worker processes | transitions/s | load avg (1 min) before | node CPU µs / transition | PostgreSQL backend CPU µs / transition | statement time µs / transition | WAL bytes / transition | full-page images / 1k transitions | WAL flushes / 1k transitions | ms per WAL flush | commits / 1k transitions | rows locked per claim | cores busy (node + backends) | CPU model here (transitions/s) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const r of runs) {
    const claims = r.statements?.filter(isClaim) ?? []
    // One claim is two statements (work of stopped owners, then due work), called in pairs.
    const claimCalls = Math.max(0, ...claims.map((c) => c.calls))
    const rowsPerClaim = r.statements === undefined ? 'n/a' : claimCalls === 0 ? '0' : (claims.reduce((s, c) => s + c.rows, 0) / claimCalls).toFixed(1)
    const statementUs = r.statements === undefined ? 'n/a' : ((r.statements.reduce((s, c) => s + c.ms, 0) * 1000) / r.transitions).toFixed(1)
    const perTransition = (r.nodeCpu + r.pgCpu) / r.transitions
    // Every transition needs its node's and its backend's CPU; one node's event loop is one core at most.
    const model = Math.min((r.workers * r.transitions) / r.nodeCpu, cores / perTransition)
    lines.push(
      `| ${r.workers} | ${Math.round(r.transitions / r.seconds).toLocaleString('en')} | ${r.load.toFixed(1)} | ${us(r.nodeCpu, r.transitions)} | ${us(r.pgCpu, r.transitions)} | ${statementUs} | ${Math.round(r.walBytes / r.transitions)} | ${perK(r.walFpi, r.transitions)} | ${perK(r.walSyncs, r.transitions)} | ${flushMs(r)} | ${perK(r.commits, r.transitions)} | ${rowsPerClaim} | ${((r.nodeCpu + r.pgCpu) / r.seconds).toFixed(2)} | ${Math.round(model).toLocaleString('en')} |`,
    )
  }
  const medians = [...new Set(runs.map((r) => r.workers))].map((w) => {
    const rates = runs.filter((r) => r.workers === w).map((r) => r.transitions / r.seconds)
    return `${w}: ${Math.round(median(rates)).toLocaleString('en')}/s`
  })
  lines.push('', `Median transitions/s by worker processes: ${medians.join(', ')}.`)
  const withStatements = runs.find((r) => r.statements !== undefined)
  if (withStatements === undefined) {
    lines.push('', 'pg_stat_statements is not loaded: per-statement time and rows per claim are skipped. To have them, add', "shared_preload_libraries = 'pg_stat_statements' to postgresql.conf and restart PostgreSQL.")
    return lines.join('\n')
  }
  const t = withStatements.transitions
  lines.push('', `Statements of the ${withStatements.workers}-worker run by time (pg_stat_statements, planning + execution):`, '', '| statement | calls / 1k transitions | rows / call | µs / transition |', '|---|---|---|---|')
  for (const s of withStatements.statements!.slice(0, 10)) {
    const text = s.query.replace(/\s+/g, ' ').slice(0, 110).replace(/\|/g, '\\|')
    lines.push(`| \`${text}${s.query.length > 110 ? '…' : ''}\` | ${perK(s.calls, t)} | ${(s.rows / Math.max(1, s.calls)).toFixed(1)} | ${((s.ms * 1000) / t).toFixed(2)} |`)
  }
  return lines.join('\n')
}

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2)
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const workers = option('workers', '1,2,4').split(',').map(Number)
  const executions = Number(option('executions', '6000'))
  const slots = Number(option('slots', '500'))
  const rounds = Number(option('rounds', '2'))
  const runs: RunCost[] = []
  // Rounds alternate (1, 2, 4, 1, 2, 4), so that a busy moment of a shared machine weighs on every count.
  for (let r = 0; r < rounds; r++) for (const w of workers) runs.push(await measure(w, executions, slots))
  console.log(report([...runs].sort((a, b) => a.workers - b.workers)))
}
