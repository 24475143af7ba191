import { existsSync, readFileSync } from 'node:fs'
import { api, startFlowManager, until, type ServeProcess } from '../support/serve-process.js'

/** Helpers for the restart tests of groups, sub-flows, timers and signals with real `serve` processes. */

export interface Run {
  readonly seq: number
  readonly task_name: string
  readonly status: string
  readonly attempt: number
  readonly data: unknown
  readonly finished_at: string | null
  readonly waiting_for: Record<string, unknown> | null
  readonly item_index: number | null
}

export interface Execution {
  readonly execution_id: string
  readonly flow_id: string
  readonly status: string
  readonly current_task: string | null
  readonly task_results: Run[]
}

export const TASKS = ['--tasks', 'test/fixtures/orchestration-tasks.ts']

/** Starts `flow-manager serve` on `db`, its `mark` task writing to `marks`. */
export async function serve(db: string, marks: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  return startFlowManager(['serve', '--db', db, ...TASKS], { FLOW_MANAGER_TEST_MARKS: marks, ...env })
}

export async function kill9(p: ServeProcess): Promise<void> {
  p.child.kill('SIGKILL')
  await p.exited
}

export const runsOf = (e: Execution): string[] => e.task_results.map((r) => `${r.task_name}:${r.status}:${r.attempt}`)

export async function start(url: string, body: Record<string, unknown>): Promise<string> {
  return (await api<Execution>(url, '/api/v1/executions', { body: { ...body, wait: false } })).execution_id
}

/** Starts `count` executions, `batch` requests at a time. */
export async function startMany(url: string, count: number, body: (i: number) => Record<string, unknown>, batch = 20): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i)
    ids.push(...(await Promise.all(Array.from({ length: n }, (_, j) => start(url, body(i + j))))))
  }
  return ids
}

export const read = (url: string, id: string): Promise<Execution> => api<Execution>(url, `/api/v1/executions/${id}`)

/** Polls the executions until `check` holds for every one of them; the deadline only bounds a failure. */
export async function allUntil(url: string, ids: readonly string[], check: (e: Execution) => boolean, what: string, deadlineMs = 120_000): Promise<Execution[]> {
  let executions: Execution[] = []
  await until(
    async () => {
      executions = []
      for (let i = 0; i < ids.length; i += 50) executions.push(...(await Promise.all(ids.slice(i, i + 50).map((id) => read(url, id)))))
      return executions.every(check)
    },
    deadlineMs,
    () => `${what}: ${JSON.stringify(executions.filter((e) => !check(e)).slice(0, 3).map((e) => ({ id: e.execution_id, status: e.status, runs: runsOf(e) })))}`,
  )
  return executions
}

export const ended = (e: Execution): boolean => e.status !== 'running' && e.status !== 'pending'

/** The lines the `mark` task wrote: "execution task attempt item", one per call of its code. */
export function marksOf(file: string): { execution: string; task: string; item: string }[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [execution = '', task = '', , item = '-'] = l.split(' ')
      return { execution, task, item }
    })
}

/** How many times the code of `task` ran in each execution. */
export function markCounts(file: string, task: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const m of marksOf(file)) if (m.task === task) counts.set(m.execution, (counts.get(m.execution) ?? 0) + 1)
  return counts
}

export { api, until, type ServeProcess }
