import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { builtinTasks, createEngine, createTaskRegistry, openSqliteStore } from '../../src/index.js'
import { testIo } from './cli-test-io.js'
import { lineFlow, tempFiles } from './temp-files.js'

describe('flow-manager worker', () => {
  it('runs executions queued in the database, then stops gracefully when signalled, exit 0', async () => {
    const path = join(tempFiles({}), 'queue.db')
    // A producer that runs nothing itself: every start waits in the queue for a worker.
    const producerStore = await openSqliteStore({ path })
    const producer = createEngine({ store: producerStore, tasks: createTaskRegistry(builtinTasks), maxConcurrent: 0 })
    const flow = lineFlow('queued', [{ name: 'a', type: 'noop' }, { name: 'b', type: 'noop' }])
    const ids = await Promise.all([1, 2, 3].map(async (n) => (await producer.start({ flow }, { input: { n } })).executionId))
    expect(await producerStore.countQueued()).toBe(3)

    const stop = new AbortController()
    const io = testIo({ signal: stop.signal, env: { LOG_LEVEL: 'silent', FLOW_MANAGER_POLL_MS: '20' } })
    const exit = main(['worker', '--db', `sqlite:${path}`], io)
    // The producer waits for the ends, which the worker process (here, in process) brings about.
    const finished = await Promise.all(ids.map((id) => producer.waitForEnd(id)))
    expect(finished.map((d) => d.execution.status)).toEqual(['completed', 'completed', 'completed'])
    expect(finished.map((d) => d.runs.map((r) => r.taskName))).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b']])
    stop.abort()
    expect(await exit).toBe(0)
    await producer.close()
    await producerStore.close()
  })

  it('refuses a setting it cannot use with one clear line, exit 2', async () => {
    const io = testIo({ env: { FLOW_MANAGER_MAX_CONCURRENT: 'lots' } })
    expect(await main(['worker', '--db', 'sqlite::memory:'], io)).toBe(2)
    expect(io.err()).toBe('flow-manager: FLOW_MANAGER_MAX_CONCURRENT "lots" must be a whole number from 1 to 100000\n')
  })
})
