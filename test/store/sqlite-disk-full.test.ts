import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { create, runEnd, startRun, step, T0, write } from '../contract/steps.js'
import { tempDir } from '../fixtures/engine.js'

const dir = tempDir()
afterAll(() => dir.remove())

describe('a SQLite store whose database cannot grow', () => {
  it('refuses the step, says that writes fail, and stops saying so once a commit works', async () => {
    const store = await openSqliteStore({ path: join(dir.path, 'full.db') })
    try {
      await write(store, create('e1', { owner: 'n1' }))
      expect(store.writesFailing?.()).toBe(false)
      // As a full disk would: the file may not take one more page.
      const pages = store.database.pragma('page_count', { simple: true }) as number
      store.database.pragma(`max_page_count = ${pages}`)
      const big = step('e1', 'n1', { at: T0 + 1, seq: 2, runs: [startRun(2, 't2', T0 + 1, { end: runEnd(T0 + 1, { dataJson: JSON.stringify({ d: 'x'.repeat(100_000) }) }) })] })
      await expect(write(store, big)).rejects.toMatchObject({ code: 'SQLITE_FULL' })
      expect(store.writesFailing?.()).toBe(true)
      expect((await store.getExecution('e1'))?.execution.seq).toBe(1)
      store.database.pragma(`max_page_count = ${pages * 1000}`)
      await write(store, big)
      expect(store.writesFailing?.()).toBe(false)
      expect((await store.getExecution('e1'))?.runs.map((r) => r.status)).toEqual(['running', 'success'])
    } finally {
      await store.close()
    }
  })
})
