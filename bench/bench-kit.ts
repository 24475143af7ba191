import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Flow } from '../src/index.js'

/** One line of the benchmark table: our figure beside a baseline measured in the same run. */
export interface BenchRow {
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly baseline?: { readonly name: string; readonly value: number }
  /** How to read the ratio: higher-is-better rates or lower-is-better costs. */
  readonly better?: 'higher' | 'lower'
  readonly goal?: string
}

export interface BenchOptions {
  readonly quick: boolean
}

export const now = (): number => performance.now()

/** A flow of `n` tasks in a chain, each of the given type, every condition routing on success. */
export function chainFlow(n: number, type: string, id = `chain-${n}`): Flow {
  const tasks = Array.from({ length: n }, (_, i) => ({ name: `t${i}`, type }))
  const conditions = tasks.slice(0, -1).map((t, i) => ({
    name: `c${i}`,
    source_task: t.name,
    outcome: 'success' as const,
    target_task_success: `t${i + 1}`,
    target_task_failure: 'end',
  }))
  return { id, name: `chain of ${n}`, start_task: 't0', tasks, conditions, max_steps: n + 1 }
}

/** The seed services' sample flow, as the README's examples post it: `{"flow": {…}}`. */
export const seedDocument = (): { flow: Flow } => JSON.parse(readFileSync(new URL('../examples/seed-flow.json', import.meta.url), 'utf8')) as { flow: Flow }

export function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'flow-manager-bench-'))
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }))
}

export function gc(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The value below which `p` percent of the sorted values lie. */
export const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN

/**
 * Bytes a process has caused to be written to storage so far (Linux's /proc/PID/io), or NaN where
 * that is not readable (another OS).
 */
export function diskWrites(pid: number | 'self' = 'self'): number {
  try {
    const match = /^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))
    return match === null ? Number.NaN : Number(match[1])
  } catch {
    return Number.NaN
  }
}

/** A durable rate and the bytes written to storage per transition while it was measured. */
export interface DurableRate {
  readonly perSecond: number
  readonly bytesPerTransition: number
}
