import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import durabilityTasks from '../fixtures/durability-tasks.js'
import { tempDir } from '../fixtures/engine.js'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'
import { api, startFlowManager, until, type ServeProcess } from '../support/serve-process.js'

/**
 * A node is proven dead only by what cannot be shared: its liveness row stopped beating, or (on the
 * same machine and pid namespace) its process is gone. A host name is not proof: two containers on
 * host networking share one.
 */

interface Execution {
  execution_id: string
  status: string
  current_task: string | null
  task_results: { task_name: string; status: string; attempt: number }[]
}

const dir = tempDir()
afterAll(() => dir.remove())
const flow = JSON.parse(readFileSync(new URL('../fixtures/hold-flow.json', import.meta.url), 'utf8')) as Record<string, unknown>
const tasks = createTaskRegistry([...builtinTasks, ...durabilityTasks])

/** A pid no process has now: one that just exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid

/** Resolves once `store.claim` has been called `n` more times: the worker has looked for work that often. */
function countingClaims(store: Store): { store: Store; after: (n: number) => Promise<void> } {
  let calls = 0
  const waiting: { at: number; resolve: () => void }[] = []
  return {
    store: {
      ...store,
      claim: async (request) => {
        const claimed = await store.claim(request)
        calls++
        for (const w of waiting.filter((x) => x.at <= calls)) w.resolve()
        return claimed
      },
    },
    after: (n) => new Promise((resolve) => waiting.push({ at: calls + n, resolve })),
  }
}

describe('two nodes with one host name on one SQLite file', () => {
  it('does not take the live work of a node on another machine whose pid looks dead here, and takes it at once when the pid is proven dead', async () => {
    const path = `${dir.path}/shared-host.db`
    const ownerStore = await openSqliteStore({ path })
    // A lease long enough that a loaded machine's late renewal cannot free the work: only a wrong
    // verdict on the owner's liveness could move it within the 20 looks below.
    const owner: Engine = createEngine({ store: ownerStore, tasks, nodeId: 'container-a', leaseMs: 5_000, pollMs: 20 })
    const otherStore = await openSqliteStore({ path })
    const counted = countingClaims(otherStore)
    const other: Engine = createEngine({ store: counted.store, tasks, pollMs: 20 })
    try {
      const { executionId } = await owner.start({ flow })
      await until(async () => (await ownerStore.getExecutionRecord(executionId))?.currentTask === 'hold', 10_000, () => 'hold did not start')
      await until(async () => (await ownerStore.listNodes()).some((n) => n.id === 'container-a'), 10_000, () => 'no liveness row')
      // The owner's row says: this host name, a pid that is not running here, another machine (boot and pid namespace).
      ownerStore.database.prepare('update nodes set pid = ?, machine = ? where id = ?').run(deadPid(), 'another-boot/pid:[4026531836]', 'container-a')

      other.startWorker()
      await counted.after(20)
      expect((await ownerStore.getExecutionRecord(executionId))?.leaseOwner).toBe('container-a')
      expect(owner.running).toBe(1)

      // The same machine and pid namespace as the other node, and a pid that is gone: proven dead, taken at once.
      const machine = (await otherStore.listNodes()).find((n) => n.id === other.nodeId)?.machine as string
      ownerStore.database.prepare('update nodes set machine = ? where id = ?').run(machine, 'container-a')
      const done = await other.waitForEnd(executionId)
      expect(done.execution.status).toBe('completed')
      expect(done.runs.map((r) => `${r.taskName}:${r.status}:${r.attempt}`)).toEqual(['fetch:success:1', 'hold:interrupted:1', 'hold:success:2', 'store:success:1'])
      // The node that lost it learns so at its next heartbeat and stops running it.
      await until(() => owner.running === 0, 10_000, () => 'the first node still runs the execution it lost')
    } finally {
      await Promise.all([owner.close({ graceMs: 0 }), other.close({ graceMs: 0 })])
      await Promise.all([ownerStore.close(), otherStore.close()])
    }
  })
})

const pg = await pgAvailable()

describe.skipIf(!pg)('a node that stops beating, on PostgreSQL', () => {
  let database: TestDatabase
  const processes: ServeProcess[] = []
  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.child.kill('SIGCONT')
      p.child.kill('SIGKILL')
      await p.exited
    }
    await database.drop()
  })

  it('loses its work to another node within seconds, not at the end of its lease', { timeout: 120_000 }, async () => {
    database = await createTestDatabase('fm_stale_node')
    // A ten-minute lease: only the liveness row can tell that the paused node is gone.
    const env = { FLOW_MANAGER_LEASE_MS: '600000', FLOW_MANAGER_POLL_MS: '200' }
    const args = ['serve', '--db', database.url, '--tasks', 'test/fixtures/durability-tasks.ts']
    const paused = await startFlowManager(args, env)
    processes.push(paused)
    const survivor = await startFlowManager(args, env)
    processes.push(survivor)
    const { execution_id: id } = await api<Execution>(paused.url, '/api/v1/executions', { body: { flow, wait: false } })
    await until(async () => (await api<Execution>(paused.url, `/api/v1/executions/${id}`)).current_task === 'hold', 30_000, () => 'hold did not start')

    // Paused, not dead: its pid lives on this machine, so only its silent liveness row proves it gone.
    paused.child.kill('SIGSTOP')
    let execution: Execution | undefined
    await until(
      async () => {
        execution = await api<Execution>(survivor.url, `/api/v1/executions/${id}`)
        return execution.status === 'completed'
      },
      60_000,
      () => `the survivor did not take the work over: ${JSON.stringify(execution)}\n${survivor.output()}`,
    )
    expect(execution?.task_results.map((r) => `${r.task_name}:${r.status}:${r.attempt}`)).toEqual(['fetch:success:1', 'hold:interrupted:1', 'hold:success:2', 'store:success:1'])
    // Woken up, the paused node records nothing more about it and serves on.
    paused.child.kill('SIGCONT')
    await until(async () => (await fetch(`${paused.url}/health`).catch(() => undefined))?.ok === true, 30_000, () => 'the paused node did not come back')
    const after = await api<Execution>(paused.url, `/api/v1/executions/${id}`)
    expect(after.status).toBe('completed')
    expect(after.task_results).toHaveLength(4)
  })
})
