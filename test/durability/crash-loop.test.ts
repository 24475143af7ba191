import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'
import { until } from '../support/serve-process.js'
import { supervise, tryGet, type Supervised } from '../support/supervisor.js'

/**
 * A task that kills its own process, in real `serve` processes that a process manager starts again
 * each time they die: the execution must fail with TASK_CRASHED after FLOW_MANAGER_MAX_RECOVERIES
 * cut-offs, rather than take every restarted node down with it forever.
 */

interface Execution {
  execution_id: string
  status: string
  error: { code: string; message: string } | null
  failed_task: string | null
  task_results: { task_name: string; status: string; attempt: number; error_code: string | null }[]
}

const dieFlow = {
  id: 'suicidal',
  name: 'A task that kills its process',
  start_task: 'boom',
  tasks: [{ name: 'boom', type: 'die', input: { how: '${input.how}' } }],
  conditions: [],
}
const quickFlow = { id: 'quick', name: 'Quick', start_task: 'a', tasks: [{ name: 'a', type: 'noop' }], conditions: [] }
const TASKS = ['--tasks', 'test/fixtures/crash-tasks.ts']

const supervised: Supervised[] = []
afterEach(async () => {
  await Promise.all(supervised.splice(0).map((s) => s.stop()))
})

function keepRunning(args: readonly string[], env: Record<string, string> = {}): Supervised {
  const s = supervise(['serve', ...args, ...TASKS], env)
  supervised.push(s)
  return s
}

async function answering(s: Supervised): Promise<string> {
  await until(async () => (await tryGet(s, '/health')) !== undefined, 60_000, () => `no process answered:\n${s.output()}`)
  return s.current?.url as string
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/api/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

/** Reads the execution from whichever process answers, until it has ended. */
async function ended(nodes: readonly Supervised[], id: string): Promise<Execution> {
  let last: Execution | undefined
  await until(
    async () => {
      for (const node of nodes) {
        const read = await tryGet<Execution>(node, `/api/v1/executions/${id}`)
        if (read !== undefined) last = read
      }
      return last !== undefined && last.status !== 'running' && last.status !== 'pending'
    },
    150_000,
    () => `execution ${id} did not end: ${JSON.stringify(last)}\n${nodes.map((n) => n.output()).join('\n')}`,
  )
  return last as Execution
}

function expectCrashed(execution: Execution, limit: number): void {
  expect(execution.status).toBe('failed')
  expect(execution.error?.code).toBe('TASK_CRASHED')
  expect(execution.failed_task).toBe('boom')
  expect(execution.error?.message).toContain(`task "boom" was cut off by a crash ${limit} times in a row`)
  expect(execution.error?.message).toContain('FLOW_MANAGER_MAX_RECOVERIES')
  // Each run was cut off and recorded as such; the last one is the failure that ended it, and none ran after.
  expect(execution.task_results.map((r) => `${r.task_name}:${r.status}:${r.attempt}:${r.error_code ?? ''}`)).toEqual([
    ...Array.from({ length: limit - 1 }, (_, i) => `boom:interrupted:${i + 1}:`),
    `boom:failure:${limit}:TASK_CRASHED`,
  ])
}

/** The node that is up now serves and runs work as usual. */
async function expectHealthy(s: Supervised): Promise<void> {
  const url = await answering(s)
  const response = await post(url, { flow: quickFlow, input: { ok: true } })
  expect(response.status).toBe(200)
  expect(((await response.json()) as Execution).status).toBe('completed')
}

describe('a task that kills its process', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flow-manager-crash-loop-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('fails its execution with TASK_CRASHED after 3 cut-offs on SQLite, and the restarted node stays up', { timeout: 240_000 }, async () => {
    const node = keepRunning(['--db', `sqlite:${join(dir, 'flows.db')}`])
    const response = await post(await answering(node), { flow: dieFlow, input: { how: 'exit' }, wait: false })
    expect(response.status).toBe(202)
    const { execution_id: id } = (await response.json()) as Execution

    expectCrashed(await ended([node], id), 3)
    // Three processes died (process.exit(70) in the task); the fourth failed the execution and lives on.
    expect(node.deaths).toEqual([70, 70, 70])
    await expectHealthy(node)
    expect(node.deaths).toHaveLength(3)
  })
})

const pg = await pgAvailable()

describe.skipIf(!pg)('a task that kills its process on PostgreSQL with two nodes', () => {
  let database: TestDatabase
  beforeEach(async () => {
    database = await createTestDatabase('fm_crash_loop')
  })
  afterEach(async () => {
    await Promise.all(supervised.splice(0).map((s) => s.stop()))
    await database.drop()
  })

  it('fails its execution with TASK_CRASHED after FLOW_MANAGER_MAX_RECOVERIES cut-offs, and neither node stays down', { timeout: 240_000 }, async () => {
    const env = { FLOW_MANAGER_MAX_RECOVERIES: '2', FLOW_MANAGER_POLL_MS: '200' }
    const nodes = [keepRunning(['--db', database.url], env), keepRunning(['--db', database.url], env)]
    const url = await answering(nodes[0] as Supervised)
    await answering(nodes[1] as Supervised)
    const response = await post(url, { flow: dieFlow, input: { how: 'kill' }, wait: false })
    expect(response.status).toBe(202)
    const { execution_id: id } = (await response.json()) as Execution

    expectCrashed(await ended(nodes, id), 2)
    // Two processes were killed in all, whichever node ran the task; both nodes serve again.
    expect(nodes.flatMap((n) => n.deaths)).toEqual(['SIGKILL', 'SIGKILL'])
    for (const n of nodes) await expectHealthy(n)
  })
})
