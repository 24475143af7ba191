import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import { NEVER, type ExecutionDetail, type Store } from '../../src/store/store.js'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'
import { create, next, newExecution, runEnd, startRun, step, T0, write } from './steps.js'

const available = await pgAvailable()

/** What any one state of an execution satisfies; a read mixing two states breaks one of these. */
function inconsistency(detail: ExecutionDetail | undefined, bounded: boolean): string | undefined {
  if (detail === undefined) return 'not found'
  const { execution, runs } = detail
  const last = runs.at(-1)
  if (!bounded && runs.length !== execution.seq) return `${runs.length} runs, seq ${execution.seq}`
  if (last?.seq !== execution.seq) return `last run ${last?.seq}, seq ${execution.seq}`
  if (bounded && detail.totalRuns !== execution.seq) return `totalRuns ${detail.totalRuns}, seq ${execution.seq}`
  if (execution.status === 'completed' && runs.some((r) => r.status === 'running')) return `completed with run ${runs.find((r) => r.status === 'running')?.seq} running`
  if (execution.status === 'running' && (last.status !== 'running' || last.taskName !== execution.currentTask)) return `running ${execution.currentTask}, last run ${last.taskName} ${last.status}`
  return undefined
}

describe.skipIf(!available)('PostgreSQL step batches and reads', () => {
  let database: TestDatabase
  const stores: Store[] = []
  const open = async (): Promise<Store> => {
    const store = await openPostgresStore({ url: database.url, poolSize: 4 })
    stores.push(store)
    return store
  }
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
    await database?.drop()
  })

  it('reads an execution and its runs in one snapshot while its steps are being written', async () => {
    const writer = await open()
    const reader = await open()
    const ids = Array.from({ length: 8 }, (_, i) => `snap-${i}`)
    const STEPS = 30
    await Promise.all(ids.map((id) => write(writer, create(id, { owner: 'n1' }))))
    let writing = true
    const written = (async () => {
      for (let seq = 1; seq <= STEPS; seq++) {
        await Promise.all(ids.map((id) => write(writer, next(id, 'n1', seq, seq === STEPS ? { end: 'completed' } : {}))))
      }
      writing = false
    })()
    const problems: string[] = []
    let reads = 0
    while (writing) {
      await Promise.all(
        ids.map(async (id, i) => {
          const bounded = i % 2 === 0
          const detail = await reader.getExecution(id, bounded ? { maxRuns: 5, maxDataBytes: 1000 } : undefined)
          reads++
          const problem = inconsistency(detail, bounded)
          if (problem !== undefined) problems.push(`${id}: ${problem}`)
        }),
      )
    }
    await written
    expect(problems).toEqual([])
    expect(reads).toBeGreaterThan(0)
    for (const id of ids) expect((await reader.getExecution(id))?.execution.status).toBe('completed')
  })

  it("commits a batch holding a child's final step, its parent's own step and other executions' steps", async () => {
    const store = await open()
    // p1 is held by n1 and goes on; p2 is parked until its child ends.
    await write(store, create('p1', { owner: 'n1' }))
    await write(store, create('p2', { owner: 'n1' }))
    const children = (parent: string, child: string) => [{ ...newExecution(child, { parent: { executionId: parent, seq: 2, task: 'sub' } }), createdAt: T0 + 1 }]
    const waiting = (child: string) => [startRun(2, 'sub', T0 + 1, { taskType: 'subflow', waitingForJson: JSON.stringify({ child }) })]
    await write(store, step('p1', 'n1', { at: T0 + 1, seq: 2, runs: waiting('c1'), children: children('p1', 'c1') }))
    await write(store, step('p2', 'n1', { at: T0 + 1, seq: 2, runs: waiting('c2'), children: children('p2', 'c2'), leaseExpiresAt: null, wakeAt: NEVER }))
    expect((await store.claim({ owner: 'n2', limit: 10, now: T0 + 2, leaseMs: 10_000, deadOwners: [] })).map((e) => e.id).sort()).toEqual(['c1', 'c2'])
    for (const id of ['x1', 'x2']) await write(store, create(id, { owner: 'n3' }))

    const childEnd = (child: string, parent: string) => ({
      ...step(child, 'n2', { at: T0 + 5, seq: 1, status: 'completed' as const, leaseExpiresAt: null, runs: [startRun(1, 'only', T0 + 5, { end: runEnd(T0 + 5) })] }),
      wakeParent: parent,
    })
    const outcomes = await Promise.allSettled([
      write(store, childEnd('c1', 'p1')),
      write(store, next('p1', 'n1', 2, { at: T0 + 6 })),
      write(store, next('x1', 'n3', 1, { at: T0 + 6 })),
      write(store, childEnd('c2', 'p2')),
      write(store, next('x2', 'n3', 1, { at: T0 + 6, end: 'completed' })),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'])
    const record = async (id: string) => (await store.getExecutionRecord(id))!
    expect(await record('p1')).toMatchObject({ poke: 1, seq: 3, currentTask: 't3', leaseOwner: 'n1', wakeAt: null })
    expect(await record('p2')).toMatchObject({ poke: 1, wakeAt: T0 + 5, leaseOwner: null })
    expect(await record('c1')).toMatchObject({ status: 'completed', leaseOwner: null })
    expect(await record('c2')).toMatchObject({ status: 'completed', leaseOwner: null })
    expect(await record('x1')).toMatchObject({ seq: 2, leaseOwner: 'n3' })
    expect(await record('x2')).toMatchObject({ status: 'completed' })
    expect((await store.getExecution('c1'))?.runs.map((r) => r.status)).toEqual(['success'])
    expect((await store.claim({ owner: 'n4', limit: 10, now: T0 + 5, leaseMs: 10_000, deadOwners: [] })).map((e) => e.id)).toEqual(['p2'])
  })
})
