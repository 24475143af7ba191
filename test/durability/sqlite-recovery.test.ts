import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../src/index.js'
import { api, startFlowManager, until, type ServeProcess } from '../support/serve-process.js'

/** Real `flow-manager serve` processes on one SQLite file: kill -9, SIGTERM, restart. */

interface Execution {
  execution_id: string
  status: string
  current_task: string | null
  task_results: { task_name: string; status: string; attempt: number }[]
}

const flow = JSON.parse(readFileSync(new URL('../fixtures/hold-flow.json', import.meta.url), 'utf8')) as unknown
const tasks = ['--tasks', 'test/fixtures/durability-tasks.ts']
const COUNT = 20

let dir: string
let db: string
const processes: ServeProcess[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flow-manager-recovery-'))
  db = `sqlite:${join(dir, 'flows.db')}`
})
afterEach(async () => {
  for (const p of processes.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL')
      await p.exited
    }
  }
  rmSync(dir, { recursive: true, force: true })
})

async function serve(env: Record<string, string> = {}): Promise<ServeProcess> {
  const p = await startFlowManager(['serve', '--db', db, ...tasks], env)
  processes.push(p)
  return p
}

async function startHeldExecutions(url: string): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < COUNT; i++) {
    const started = await api<Execution>(url, '/api/v1/executions', { body: { flow, input: { n: i }, wait: false } })
    ids.push(started.execution_id)
  }
  // Every execution is inside the task that only a stop can end.
  await until(
    async () => (await Promise.all(ids.map((id) => api<Execution>(url, `/api/v1/executions/${id}`)))).every((e) => e.current_task === 'hold'),
    30_000,
    () => 'the executions did not all reach the hold task',
  )
  return ids
}

async function allFinished(url: string, ids: readonly string[]): Promise<Execution[]> {
  let executions: Execution[] = []
  await until(
    async () => {
      executions = await Promise.all(ids.map((id) => api<Execution>(url, `/api/v1/executions/${id}`)))
      return executions.every((e) => e.status !== 'running' && e.status !== 'pending')
    },
    30_000,
    () => `not every execution finished: ${JSON.stringify(executions.map((e) => e.status))}`,
  )
  return executions
}

function runsOf(execution: Execution): string[] {
  return execution.task_results.map((r) => `${r.task_name}:${r.status}:${r.attempt}`)
}

describe('crash recovery on SQLite', () => {
  it('finishes every execution a kill -9 cut off, re-running only the interrupted task', { timeout: 180_000 }, async () => {
    const first = await serve()
    const ids = await startHeldExecutions(first.url)
    first.child.kill('SIGKILL')
    await first.exited

    const second = await serve()
    const executions = await allFinished(second.url, ids)
    for (const execution of executions) {
      expect(execution.status).toBe('completed')
      // fetch ran once, before the crash; hold was cut off, recorded as interrupted, then ran again.
      expect(runsOf(execution)).toEqual(['fetch:success:1', 'hold:interrupted:1', 'hold:success:2', 'store:success:1'])
    }
    // The event log tells the story: taken over, the cut-off run recorded as interrupted, then the re-run.
    const store = await openSqliteStore({ path: db.slice('sqlite:'.length) })
    const types = (await store.listEvents(ids[0] as string, 0, 100)).map((e) => e.type)
    await store.close()
    expect(types.slice(types.indexOf('execution_resumed'))).toEqual([
      'execution_resumed',
      'task_interrupted',
      'task_started',
      'task_finished',
      'routed',
      'task_started',
      'task_finished',
      'execution_finished',
    ])
  })

  it('hands running work back on SIGTERM, and the next start completes all of it', { timeout: 180_000 }, async () => {
    const first = await serve({ FLOW_MANAGER_SHUTDOWN_GRACE_MS: '100' })
    const ids = await startHeldExecutions(first.url)
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)

    const second = await serve()
    const executions = await allFinished(second.url, ids)
    for (const execution of executions) {
      expect(execution.status).toBe('completed')
      expect(runsOf(execution)).toEqual(['fetch:success:1', 'hold:interrupted:1', 'hold:success:2', 'store:success:1'])
    }
  })
})
