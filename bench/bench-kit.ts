import { mkdtempSync, rmSync } from 'node:fs'
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

export function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'flow-manager-bench-'))
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }))
}

export function gc(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}
