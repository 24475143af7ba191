import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import BetterSqlite3 from 'better-sqlite3'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { FinishedReads } from '../../src/store/sqlite/finished-reads.js'
import type { ExecutionDetail, Store } from '../../src/store/store.js'
import { tempDir } from '../fixtures/engine.js'

/**
 * A finished execution is answered from memory, never stale: a resume through this store, or a
 * write by another process sharing the file, is seen by the next read.
 */

const failUnless = defineTask({
  name: 'fail-unless-ok',
  description: 'Fails unless input.ok is true.',
  run: (input) => {
    if ((input as { ok?: boolean }).ok !== true) throw new Error('not ok')
    return { ok: true }
  },
})
const flow = { id: 'fail-unless-ok', name: 'Fails unless ok', start_task: 'w', tasks: [{ name: 'w', type: 'fail-unless-ok', input: { ok: '${input.ok}' } }], conditions: [] }
const LIMITS = { maxRuns: 1000, maxDataBytes: 8 * 1024 * 1024 }

const dir = tempDir()
const path = `${dir.path}/finished-reads.db`
let store: Store
let engine: Engine
beforeAll(async () => {
  store = await openSqliteStore({ path })
  engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, failUnless]) })
})
afterAll(async () => {
  await engine.close({ graceMs: 0 })
  await store.close()
  dir.remove()
})

describe('reading a finished execution from the SQLite store', () => {
  it('answers repeated reads of a finished execution from memory, and the read after a resume sees the resumed execution', async () => {
    const failed = await engine.run({ flow }, { input: { ok: false } })
    const id = failed.execution.id
    const first = await store.getExecution(id, LIMITS)
    expect(first?.execution.status).toBe('failed')
    expect(await store.getExecution(id, LIMITS)).toBe(first)

    const resumed = await engine.resume(id, { input: { ok: true } })
    const during = await store.getExecution(id, LIMITS)
    expect(during?.execution.status).not.toBe('failed')
    await resumed.done
    const after = await store.getExecution(id, LIMITS)
    expect(after?.execution.status).toBe('completed')
    expect(after?.runs.map((r) => r.status)).toEqual(['failure', 'success'])
  })

  it('does not keep what is still running, nor reads asked with other limits', async () => {
    const done = await engine.run({ flow }, { input: { ok: true } })
    const id = done.execution.id
    const bounded = await store.getExecution(id, LIMITS)
    expect(await store.getExecution(id, { maxRuns: 1, maxDataBytes: 10 })).not.toBe(bounded)
    expect(await store.getExecution(id)).not.toBe(bounded)
  })

  it('does not keep a finished execution with much text (here its input), so that memory stays bounded', async () => {
    const done = await engine.run({ flow }, { input: { ok: true, padding: 'x'.repeat(70 * 1024) } })
    const id = done.execution.id
    const first = await store.getExecution(id, LIMITS)
    expect(first?.execution.status).toBe('completed')
    expect(await store.getExecution(id, LIMITS)).not.toBe(first)
  })
})

describe('FinishedReads', () => {
  const detail = (status: 'completed' | 'running'): ExecutionDetail => ({ execution: { status } as ExecutionDetail['execution'], runs: [], totalRuns: 0 })

  it('forgets everything once another connection has written to the file, seen at the next look (every 100 ms)', () => {
    let version = 1
    let now = 0
    const reads = new FinishedReads(() => version, () => now)
    const ended = detail('completed')
    reads.put('a', LIMITS, ended, 10)
    expect(reads.get('a', LIMITS)).toBe(ended)
    version = 2
    now = 99
    expect(reads.get('a', LIMITS)).toBe(ended)
    now = 100
    expect(reads.get('a', LIMITS)).toBeUndefined()
    reads.put('a', LIMITS, ended, 10)
    now = 250
    expect(reads.get('a', LIMITS)).toBe(ended)
  })

  it('keeps only finished executions with little data, and forgets one that a step names', () => {
    const reads = new FinishedReads(() => 1, () => 0)
    reads.put('running', LIMITS, detail('running'), 10)
    reads.put('large', LIMITS, detail('completed'), 1024 * 1024)
    reads.put('small', LIMITS, detail('completed'), 10)
    expect(reads.get('running', LIMITS)).toBeUndefined()
    expect(reads.get('large', LIMITS)).toBeUndefined()
    expect(reads.get('small', LIMITS)).toBeDefined()
    reads.forget('small')
    expect(reads.get('small', LIMITS)).toBeUndefined()
  })

  it('sees a real write by another connection to the same file', async () => {
    const other = new BetterSqlite3(path)
    const done = await engine.run({ flow }, { input: { ok: true } })
    const id = done.execution.id
    const cached = await store.getExecution(id, LIMITS)
    expect(await store.getExecution(id, LIMITS)).toBe(cached)
    other.prepare(`update executions set status = 'cancelled' where id = ?`).run(id)
    other.close()
    // data_version is looked at every 100 ms: a read past that sees the other connection's write.
    await expect.poll(async () => (await store.getExecution(id, LIMITS))?.execution.status, { interval: 20, timeout: 5000 }).toBe('cancelled')
  })
})
