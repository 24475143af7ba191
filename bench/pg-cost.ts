import { readFileSync } from 'node:fs'
import type pg from 'pg'

/**
 * What a run costs PostgreSQL, read from the server's own statistics and from /proc: the pieces of
 * docs/scaling.md's model. Everything is a difference between two readings around the run.
 */
export interface CostSnapshot {
  /** WAL counters of the whole cluster; syncMs is 0 unless track_wal_io_timing is on. */
  readonly wal: { readonly records: number; readonly fpi: number; readonly bytes: number; readonly syncs: number; readonly syncMs: number } | undefined
  readonly commits: number
}

const TICKS_PER_SECOND = 100

/** CPU seconds (user + system) a process has used, from /proc/PID/stat; undefined when unreadable (another OS, another machine). */
export function processCpu(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

/** The backends serving this database, other than the one asking. */
export async function backendPids(client: pg.Client): Promise<number[]> {
  const result = await client.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`)
  return result.rows.map((r) => r.pid)
}

/** Whether pg_stat_statements is loaded (shared_preload_libraries) and installed in this database; installs it when it can. */
export async function statementsAvailable(client: pg.Client): Promise<boolean> {
  try {
    await client.query('create extension if not exists pg_stat_statements')
    await client.query('select 1 from pg_stat_statements limit 1')
    return true
  } catch {
    return false
  }
}

/** CPU seconds so far of each process that can be read. */
export function cpuSnapshot(pids: readonly number[]): Map<number, number> {
  const cpu = new Map<number, number>()
  for (const pid of pids) {
    const seconds = processCpu(pid)
    if (seconds !== undefined) cpu.set(pid, seconds)
  }
  return cpu
}

export async function walLsn(client: pg.Client): Promise<string> {
  return (await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn
}

/**
 * The server's cumulative counters. Backends report them at most once a second, so read them a
 * little after a run ends. pg_stat_wal (PostgreSQL 14 and later) counts the whole cluster.
 */
export async function counters(client: pg.Client): Promise<Pick<CostSnapshot, 'wal' | 'commits'>> {
  const wal = await client
    .query<{ wal_records: string; wal_fpi: string; wal_bytes: string; wal_sync: string; wal_sync_time: number }>('select wal_records, wal_fpi, wal_bytes, wal_sync, wal_sync_time from pg_stat_wal')
    .then((r) => r.rows[0])
    .catch(() => undefined)
  const commits = await client.query<{ n: string }>('select xact_commit as n from pg_stat_database where datname = current_database()')
  return {
    wal:
      wal === undefined
        ? undefined
        : { records: Number(wal.wal_records), fpi: Number(wal.wal_fpi), bytes: Number(wal.wal_bytes), syncs: Number(wal.wal_sync), syncMs: Number(wal.wal_sync_time) },
    commits: Number(commits.rows[0]?.n ?? 0),
  }
}

/** CPU seconds the given processes used between two snapshots; a process first seen in `after` counts from its start. */
export function cpuBetween(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>, pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + Math.max(0, (after.get(pid) ?? 0) - (before.get(pid) ?? 0)), 0)
}

export async function walBytesBetween(client: pg.Client, before: string, after: string): Promise<number> {
  const result = await client.query<{ bytes: string }>('select pg_wal_lsn_diff($1, $2) as bytes', [after, before])
  return Number(result.rows[0]!.bytes)
}

export interface StatementCost {
  readonly query: string
  readonly calls: number
  readonly rows: number
  /** Milliseconds in planning and execution, summed over calls. */
  readonly ms: number
}

/** This database's statements by time spent in them (pg_stat_statements), since the last reset. */
export async function statementCosts(client: pg.Client): Promise<StatementCost[]> {
  const result = await client.query<{ query: string; calls: string; rows: string; ms: number }>(
    `select query, calls, rows, total_exec_time + total_plan_time as ms from pg_stat_statements
     where dbid = (select oid from pg_database where datname = current_database()) order by ms desc`,
  )
  return result.rows.map((r) => ({ query: r.query, calls: Number(r.calls), rows: Number(r.rows), ms: Number(r.ms) }))
}

export async function resetStatements(client: pg.Client): Promise<void> {
  await client.query('select pg_stat_statements_reset()')
}
