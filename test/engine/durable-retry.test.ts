import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { builtinTasks, createEngine, createTaskRegistry, defineTask, openSqliteStore, systemClock, type Clock, type Store } from '../../src/index.js'

/** A retry's backoff is waited durably: recorded, holding no slot, taken up by any node when due. */

const flaky = defineTask({
  name: 'flaky',
  description: 'Fails its first attempt, succeeds after.',
  run: (_input, context) => (context.attempt === 1 ? { status: 'failure', error: 'first attempt fails' } : { attempt: context.attempt }),
})
const tasks = createTaskRegistry([...builtinTasks, flaky])
const MINUTE = 60_000
const retryingFlow = {
  id: 'retrying',
  name: 'Retries after a minute',
  start_task: 'call',
  tasks: [{ name: 'call', type: 'flaky', retry: { max_attempts: 2, backoff_ms: MINUTE } }],
  conditions: [],
}

let dir: string
let store: Store

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flow-manager-retry-'))
  store = await openSqliteStore({ path: join(dir, 'flows.db') })
})
afterEach(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Resolves once the execution's failed first attempt is recorded and its wait has begun. */
async function waitingExecution(engine: ReturnType<typeof createEngine>): Promise<string> {
  const waiting = new Promise<string>((resolve) => {
    const stop = engine.subscribe((notice) => {
      if (notice.type === 'logged' && notice.events.some((e) => e.type === 'task_finished' && Date.parse((e.data as { retry_at?: string }).retry_at ?? '') === e.at + MINUTE)) {
        stop()
        resolve(notice.executionId)
      }
    })
  })
  await engine.start({ flow: retryingFlow })
  return waiting
}

describe('a retry waiting out its backoff', () => {
  it('holds no slot: with one slot, another execution runs meanwhile', async () => {
    const engine = createEngine({ store, tasks, maxConcurrent: 1 })
    const id = await waitingExecution(engine)
    const other = await engine.run({ flow: { ...retryingFlow, id: 'other', start_task: 'n', tasks: [{ name: 'n', type: 'noop' }] } })
    expect(other.execution.status).toBe('completed')
    const stored = await store.getExecution(id)
    expect(stored?.execution).toMatchObject({ status: 'running', currentTask: 'call', leaseOwner: null })
    expect(stored?.runs[0]).toMatchObject({ status: 'failure', attempt: 1 })
    expect(stored?.runs[0]?.retryAt).toBe(stored?.execution.wakeAt)
    await engine.close({ graceMs: 0 })
  })

  it('survives the process: another engine takes it up once it is due and finishes it', async () => {
    const first = createEngine({ store, tasks })
    const id = await waitingExecution(first)
    await first.close({ graceMs: 0 })

    const later: Clock = { now: () => systemClock.now() + MINUTE + 1000, monotonic: () => systemClock.monotonic() }
    const second = createEngine({ store, tasks, clock: later, pollMs: 10 })
    second.startWorker()
    const detail = await second.waitForEnd(id)
    expect(detail.execution.status).toBe('completed')
    expect(detail.runs.map((r) => `${r.taskName}:${r.status}:${r.attempt}`)).toEqual(['call:failure:1', 'call:success:2'])
    await second.close({ graceMs: 0 })
  })

  it('is not taken up early by another node', async () => {
    const first = createEngine({ store, tasks })
    const id = await waitingExecution(first)
    await first.close({ graceMs: 0 })
    const claimed = await store.claim({ owner: 'another-node', limit: 10, now: Date.now(), leaseMs: 1000, deadOwners: [] })
    expect(claimed.map((e) => e.id)).not.toContain(id)
  })

  it('ends at once when the execution is cancelled', async () => {
    const engine = createEngine({ store, tasks })
    const id = await waitingExecution(engine)
    await engine.cancel(id, 'no more waiting')
    const detail = await engine.waitForEnd(id)
    expect(detail.execution).toMatchObject({ status: 'cancelled', error: { code: 'EXECUTION_CANCELLED' } })
    expect(detail.runs.map((r) => r.attempt)).toEqual([1])
    await engine.close({ graceMs: 0 })
  })
})
