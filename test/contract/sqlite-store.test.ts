import { join } from 'node:path'
import { afterAll } from 'vitest'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from '../fixtures/engine.js'
import { describeSqlStore } from './sql-contract.js'
import { describeStore } from './store-contract.js'

const dir = tempDir()
afterAll(() => dir.remove())
let n = 0

const open = async () => {
  const store = await openSqliteStore({ path: join(dir.path, `contract-${++n}.db`) })
  return { store, cleanup: () => store.close() }
}
describeStore('sqlite', open)
describeSqlStore('sqlite', open)
