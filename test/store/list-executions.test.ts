import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngine } from '../../src/engine/engine.js'
import { createMemoryStore } from '../../src/store/memory/memory-store.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { ExecutionRecord, Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import { fakeClock, tempDir } from '../fixtures/engine.js'
import { seedFlow } from '../fixtures/flows.js'

const dir = tempDir()
afterAll(() => dir.remove())

const stores: [string, () => Promise<Store>][] = [
  ['sqlite', () => openSqliteStore({ path: join(dir.path, 'paging.db') })],
  ['memory', () => Promise.resolve(createMemoryStore())],
]

/** Every page of a listing, following next_cursor until it is null. */
async function allPages(store: Store, filter: { limit: number; status?: 'completed' | 'failed'; flowId?: string }): Promise<ExecutionRecord[][]> {
  const pages: ExecutionRecord[][] = []
  let cursor: string | undefined
  do {
    const page = await store.listExecutions({ ...filter, ...(cursor === undefined ? {} : { cursor }) })
    pages.push([...page.items])
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined && pages.length < 100)
  return pages
}

describe.each(stores)('listExecutions on the %s store', (_kind, open) => {
  it('pages 25 executions, 7 at a time, newest first, with no item repeated or skipped', async () => {
    const store = await open()
    const clock = fakeClock()
    // Random ids (not in creation order), and three executions per millisecond, so ties on created_at are common.
    const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks), clock })
    const created: ExecutionRecord[] = []
    for (let i = 0; i < 25; i++) {
      if (i % 3 === 0) clock.advance(1)
      const detail = await engine.run({ flow: seedFlow() }, { input: i % 4 === 0 ? { fail: 'task2' } : {} })
      created.push(detail.execution)
    }

    const pages = await allPages(store, { limit: 7 })
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 4])
    const listed = pages.flat()
    const newestFirst = [...created].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
    expect(listed.map((e) => e.id)).toEqual(newestFirst.map((e) => e.id))
    expect(new Set(listed.map((e) => e.id)).size).toBe(25)

    const failedPages = await allPages(store, { limit: 2, status: 'failed' })
    const failedIds = failedPages.flat().map((e) => e.id)
    expect(failedIds).toEqual(newestFirst.filter((e) => e.status === 'failed').map((e) => e.id))
    expect(failedIds).toHaveLength(7)
    expect(failedPages.every((p) => p.length > 0)).toBe(true)

    expect((await store.listExecutions({ limit: 25 })).nextCursor).toBeNull()
    expect((await store.listExecutions({ limit: 7, flowId: 'other' })).items).toEqual([])
    await engine.close({ graceMs: 0 })
    await store.close()
  })
})

describe('listExecutions on the sqlite store', () => {
  it('refuses a cursor it did not hand out with INPUT_INVALID', async () => {
    const store = await openSqliteStore({ path: ':memory:' })
    await expect(store.listExecutions({ limit: 5, cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
    await store.close()
  })
})
