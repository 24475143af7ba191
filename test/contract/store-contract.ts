import { describe, expect, it } from 'vitest'
import { LeaseLostError, type ExecutionFilter, type Store } from '../../src/store/store.js'
import { create, flow, LEASE_MS, next, seeded, T0, write } from './steps.js'

export interface OpenedStore {
  readonly store: Store
  /** Closes the store and removes what it kept. */
  readonly cleanup: () => Promise<void>
}

/**
 * The contract every Store adapter keeps, run against each one. `open` gives an empty store for
 * one test; the suite closes it after.
 */
export function describeStore(name: string, open: () => Promise<OpenedStore>): void {
  /** Runs a test on a fresh, empty store, and cleans it up whatever happens. */
  const withStore = (fn: (store: Store) => Promise<void>) => async () => {
    const { store, cleanup } = await open()
    try {
      await fn(store)
    } finally {
      await cleanup()
    }
  }

  describe(`the ${name} store`, () => {
    describe('step writes', () => {
      it('shows the execution, its task runs and its events once the write has resolved', withStore(async (store) => {
        await write(store, create('e1', { owner: 'n1', input: { x: [1, 'two'] } }))
        await write(store, next('e1', 'n1', 1))
        const detail = await store.getExecution('e1')
        expect(detail?.execution).toMatchObject({
          id: 'e1',
          flowId: 'flow-a',
          flowVersion: 1,
          status: 'running',
          input: { x: [1, 'two'] },
          currentTask: 't2',
          steps: 2,
          leaseOwner: 'n1',
          createdAt: T0,
          startedAt: T0 + 1,
          eventSeq: 4,
          cancelRequested: false,
        })
        expect(detail?.runs).toEqual([
          { executionId: 'e1', seq: 1, taskName: 't1', taskType: 'noop', attempt: 1, status: 'success', data: { seq: 1 }, error: null, startedAt: T0, finishedAt: T0 + 1, durationMs: 1.5, nextTask: 't2' },
          { executionId: 'e1', seq: 2, taskName: 't2', taskType: 'noop', attempt: 1, status: 'running', data: null, error: null, startedAt: T0 + 1, finishedAt: null, durationMs: null, nextTask: null },
        ])
        const events = await store.listEvents('e1', 0, 100)
        expect(events.map((e) => [e.seq, e.type, e.taskName])).toEqual([
          [1, 'execution_started', null],
          [2, 'task_started', 't1'],
          [3, 'task_finished', 't1'],
          [4, 'task_started', 't2'],
        ])
        expect(events[2]).toEqual({ executionId: 'e1', seq: 3, type: 'task_finished', at: T0 + 1, taskName: 't1', data: { n: 3 } })
      }))

      it('commits every step of many executions written in the same tick', withStore(async (store) => {
        const ids = Array.from({ length: 120 }, (_, i) => `e${String(i).padStart(3, '0')}`)
        await Promise.all(ids.map((id) => write(store, create(id, { owner: 'n1' }))))
        await Promise.all(ids.map((id) => write(store, next(id, 'n1', 1))))
        await Promise.all(ids.map((id, i) => write(store, next(id, 'n1', 2, i % 2 === 0 ? { end: 'completed' } : {}))))
        for (const [i, id] of ids.entries()) {
          const detail = await store.getExecution(id)
          expect(detail?.runs.map((r) => r.status), id).toEqual(i % 2 === 0 ? ['success', 'success'] : ['success', 'success', 'running'])
          expect(await store.listEvents(id, 0, 100), id).toHaveLength(6)
        }
        const completed = await store.listExecutions({ limit: 500, status: 'completed' })
        expect(completed.items).toHaveLength(60)
      }))

      it('refuses a step by a node that does not hold the lease, and writes nothing of it', withStore(async (store) => {
        await write(store, create('e1', { owner: 'n1' }))
        const before = await store.getExecution('e1')
        await expect(write(store, next('e1', 'n2', 1))).rejects.toBeInstanceOf(LeaseLostError)
        await expect(write(store, next('e1', 'n2', 1))).rejects.toMatchObject({ executionId: 'e1' })
        expect(await store.getExecution('e1')).toEqual(before)
        expect(await store.listEvents('e1', 0, 100)).toHaveLength(2)
      }))

      it('fences a refused step without failing the good steps committed with it', withStore(async (store) => {
        await Promise.all([write(store, create('e1', { owner: 'n1' })), write(store, create('e2', { owner: 'n1' }))])
        const results = await Promise.allSettled([write(store, next('e1', 'n2', 1)), write(store, next('e2', 'n1', 1)), write(store, create('e3', { owner: 'n3' }))])
        expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled'])
        expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(LeaseLostError)
        expect((await store.getExecution('e1'))?.runs).toHaveLength(1)
        expect((await store.getExecution('e2'))?.runs).toHaveLength(2)
        expect((await store.getExecution('e3'))?.execution.leaseOwner).toBe('n3')
      }))

      it('takes over an execution only while nobody holds it', withStore(async (store) => {
        await write(store, create('e1', { owner: 'n1' }))
        await expect(write(store, next('e1', 'n2', 1, { takeover: true }))).rejects.toBeInstanceOf(LeaseLostError)
        await write(store, next('e1', 'n1', 1, { end: 'failed' }))
        expect((await store.getExecution('e1'))?.execution).toMatchObject({ status: 'failed', leaseOwner: null })
        await write(store, next('e1', 'n2', 2, { takeover: true }))
        expect((await store.getExecution('e1'))?.execution).toMatchObject({ status: 'running', leaseOwner: 'n2' })
        await expect(write(store, next('e1', 'n3', 3, { takeover: true }))).rejects.toBeInstanceOf(LeaseLostError)
        expect((await store.getExecution('e1'))?.execution.leaseOwner).toBe('n2')
      }))

      it('clears the lease owner with the terminal step', withStore(async (store) => {
        await write(store, create('e1', { owner: 'n1' }))
        expect(await store.listLeaseOwners()).toEqual(['n1'])
        await write(store, next('e1', 'n1', 1, { end: 'completed' }))
        const detail = await store.getExecution('e1')
        expect(detail?.execution).toMatchObject({ status: 'completed', leaseOwner: null, finishedAt: T0 + 1, eventSeq: 4 })
        expect(await store.listLeaseOwners()).toEqual([])
        expect(await store.claim({ owner: 'n2', limit: 10, now: T0 + 2 * LEASE_MS, leaseMs: LEASE_MS, deadOwners: [] })).toEqual([])
      }))
    })

    describe('idempotency keys', () => {
      it('refuses a second execution with a taken key, and finds the first by it', withStore(async (store) => {
        await write(store, create('e1', { owner: 'n1', idempotencyKey: 'key-1' }))
        await expect(write(store, create('e2', { owner: 'n1', idempotencyKey: 'key-1' }))).rejects.toThrow()
        expect((await store.findExecutionByIdempotencyKey('key-1'))?.id).toBe('e1')
        expect(await store.getExecution('e2')).toBeUndefined()
        expect(await store.listEvents('e2', 0, 10)).toEqual([])
        expect(await store.findExecutionByIdempotencyKey('key-2')).toBeUndefined()
      }))

      it('records one of two executions with one key written in the same tick', withStore(async (store) => {
        const results = await Promise.allSettled([
          write(store, create('e1', { owner: 'n1', idempotencyKey: 'key-1' })),
          write(store, create('e2', { owner: 'n1', idempotencyKey: 'key-1' })),
          write(store, create('e3', { owner: 'n1', idempotencyKey: 'key-3' })),
        ])
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2)
        expect(results[2]?.status).toBe('fulfilled')
        const winner = await store.findExecutionByIdempotencyKey('key-1')
        const loser = winner?.id === 'e1' ? 'e2' : 'e1'
        expect(await store.getExecution(loser)).toBeUndefined()
        expect((await store.getExecution(winner!.id))?.runs).toHaveLength(1)
      }))
    })

    describe('claims and leases', () => {
      it('claims queued executions, oldest first, up to the limit', withStore(async (store) => {
        for (const [id, at] of [['q-b', 3], ['q-a', 1], ['q-c', 2], ['q-d', 4]] as const) {
          await write(store, create(id, { owner: null, createdAt: T0 + at }))
        }
        expect(await store.countQueued()).toBe(4)
        const claimed = await store.claim({ owner: 'n1', limit: 2, now: T0 + 10, leaseMs: LEASE_MS, deadOwners: [] })
        expect(claimed.map((e) => [e.id, e.leaseOwner, e.status])).toEqual([['q-a', 'n1', 'pending'], ['q-c', 'n1', 'pending']])
        expect(await store.countQueued()).toBe(2)
        const rest = await store.claim({ owner: 'n2', limit: 10, now: T0 + 10, leaseMs: LEASE_MS, deadOwners: [] })
        expect(rest.map((e) => e.id)).toEqual(['q-b', 'q-d'])
        expect(await store.countQueued()).toBe(0)
        expect(await store.claim({ owner: 'n3', limit: 10, now: T0 + 10, leaseMs: LEASE_MS, deadOwners: [] })).toEqual([])
        expect([...(await store.listLeaseOwners())].sort()).toEqual(['n1', 'n2'])
      }))

      it('never claims an execution whose lease is live, and claims it once the lease expires', withStore(async (store) => {
        await write(store, create('e1', { owner: 'n1' }))
        const expiry = T0 + LEASE_MS
        expect(await store.claim({ owner: 'n2', limit: 10, now: expiry - 1, leaseMs: LEASE_MS, deadOwners: [] })).toEqual([])
        const claimed = await store.claim({ owner: 'n2', limit: 10, now: expiry + 1, leaseMs: LEASE_MS, deadOwners: [] })
        expect(claimed.map((e) => [e.id, e.leaseOwner, e.status])).toEqual([['e1', 'n2', 'running']])
        // The previous owner is fenced out; the new one writes.
        await expect(write(store, next('e1', 'n1', 1))).rejects.toBeInstanceOf(LeaseLostError)
        await write(store, next('e1', 'n2', 1))
        expect((await store.getExecution('e1'))?.runs.map((r) => r.status)).toEqual(['success', 'running'])
      }))

      it("claims a dead owner's executions at once, and not a live owner's", withStore(async (store) => {
        await write(store, create('dead-1', { owner: 'dead', createdAt: T0 + 1 }))
        await write(store, create('live-1', { owner: 'live', createdAt: T0 }))
        const claimed = await store.claim({ owner: 'n2', limit: 10, now: T0 + 5, leaseMs: LEASE_MS, deadOwners: ['dead'] })
        expect(claimed.map((e) => e.id)).toEqual(['dead-1'])
        expect((await store.getExecution('live-1'))?.execution.leaseOwner).toBe('live')
      }))

      it('renews leases with a heartbeat, which reports requested cancellations', withStore(async (store) => {
        await write(store, create('e1', { owner: 'n1' }))
        await write(store, create('e2', { owner: 'n1' }))
        await write(store, create('other', { owner: 'n2' }))
        expect(await store.heartbeat('n1', T0 + LEASE_MS - 1, LEASE_MS)).toEqual({ cancelRequested: [] })
        // The original lease has run out, the renewed one has not.
        expect(await store.claim({ owner: 'n3', limit: 10, now: T0 + LEASE_MS + 1, leaseMs: LEASE_MS, deadOwners: [] })).toMatchObject([{ id: 'other' }])
        await store.requestCancel('e2')
        expect((await store.getExecution('e2'))?.execution.cancelRequested).toBe(true)
        expect(await store.heartbeat('n1', T0 + LEASE_MS + 2, LEASE_MS)).toEqual({ cancelRequested: ['e2'] })
        expect(await store.heartbeat('nobody', T0, LEASE_MS)).toEqual({ cancelRequested: [] })
      }))

      it('does not flag a finished execution for cancellation', withStore(async (store) => {
        await write(store, create('e1', { owner: 'n1' }))
        await write(store, next('e1', 'n1', 1, { end: 'completed' }))
        await store.requestCancel('e1')
        expect((await store.getExecution('e1'))?.execution.cancelRequested).toBe(false)
      }))

      it("hands an owner's leases back on release, so another node claims them at once", withStore(async (store) => {
        await write(store, create('e1', { owner: 'n1' }))
        await write(store, create('e2', { owner: 'n2' }))
        await store.release('n1')
        expect((await store.getExecution('e1'))?.execution.leaseOwner).toBeNull()
        expect(await store.listLeaseOwners()).toEqual(['n2'])
        const claimed = await store.claim({ owner: 'n3', limit: 10, now: T0 + 1, leaseMs: LEASE_MS, deadOwners: [] })
        expect(claimed.map((e) => e.id)).toEqual(['e1'])
      }))

      it('never hands one execution to two of 8 owners claiming at once (3 seeds)', withStore(async (store) => {
        for (const seed of [1, 2, 3]) {
          const random = seeded(seed)
          const ids = Array.from({ length: 50 }, (_, i) => `s${seed}-${String(i).padStart(2, '0')}`)
          await Promise.all(ids.map((id, i) => write(store, create(id, { owner: null, createdAt: T0 + i }))))
          const owners = Array.from({ length: 8 }, (_, i) => `s${seed}-owner-${i}`)
          const got = new Map<string, string[]>()
          for (let round = 0; round < 100 && [...got.values()].flat().length < ids.length; round++) {
            const claims = await Promise.all(
              owners
                .filter(() => random() < 0.8)
                .map(async (owner) => ({ owner, claimed: await store.claim({ owner, limit: 1 + Math.floor(random() * 6), now: T0 + 100, leaseMs: LEASE_MS, deadOwners: [] }) })),
            )
            for (const { owner, claimed } of claims) {
              for (const e of claimed) got.set(e.id, [...(got.get(e.id) ?? []), owner])
            }
          }
          expect([...got.keys()].sort()).toEqual(ids)
          for (const [id, claimants] of got) {
            expect(claimants, `execution ${id} (seed ${seed})`).toHaveLength(1)
            expect((await store.getExecution(id))?.execution.leaseOwner).toBe(claimants[0])
          }
        }
      }))
    })

    describe('reads', () => {
      it('pages the event log after a sequence number', withStore(async (store) => {
        await write(store, create('e1', { owner: 'n1' }))
        for (let seq = 1; seq <= 4; seq++) await write(store, next('e1', 'n1', seq, seq === 4 ? { end: 'completed' } : {}))
        const pages = [await store.listEvents('e1', 0, 4), await store.listEvents('e1', 4, 4), await store.listEvents('e1', 8, 4), await store.listEvents('e1', 10, 4)]
        expect(pages.map((p) => p.map((e) => e.seq))).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10], []])
        expect(pages[2]?.map((e) => e.type)).toEqual(['task_finished', 'execution_finished'])
        expect(await store.listEvents('missing', 0, 10)).toEqual([])
      }))

      it('pages executions newest first by cursor, filtered by status and flow', withStore(async (store) => {
        // Three executions per millisecond, ids not in creation order, so ties on created_at are common.
        const ids = Array.from({ length: 23 }, (_, i) => `x${(i * 7) % 23}`.padEnd(4, '_'))
        for (const [i, id] of ids.entries()) {
          await write(store, create(id, { owner: 'n1', createdAt: T0 + Math.floor(i / 3), flowId: i % 2 === 0 ? 'even' : 'odd' }))
          if (i % 4 === 0) await write(store, next(id, 'n1', 1, { end: 'failed' }))
        }
        const collect = async (filter: { status?: 'failed'; flowId?: string }, limit: number) => {
          const seen: string[] = []
          let cursor: string | undefined
          for (let page = 0; page < 50; page++) {
            const result = await store.listExecutions({ ...filter, limit, ...(cursor === undefined ? {} : { cursor }) })
            expect(result.items.length).toBeLessThanOrEqual(limit)
            seen.push(...result.items.map((e) => e.id))
            if (result.nextCursor === null) break
            cursor = result.nextCursor
          }
          return seen
        }
        const order = ids
          .map((id, i) => ({ id, i, at: Math.floor(i / 3) }))
          .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
        expect(await collect({}, 5)).toEqual(order.map((e) => e.id))
        expect(await collect({ status: 'failed' }, 2)).toEqual(order.filter((e) => e.i % 4 === 0).map((e) => e.id))
        expect(await collect({ flowId: 'odd' }, 4)).toEqual(order.filter((e) => e.i % 2 === 1).map((e) => e.id))
        expect(await collect({ flowId: 'odd', status: 'failed' }, 4)).toEqual([])
        expect((await store.listExecutions({ limit: 23 })).nextCursor).toBeNull()
        await expect(store.listExecutions({ limit: 5, cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'INPUT_INVALID' })
      }))

      it('filters executions by id prefix, by a creation time range and by ids', withStore(async (store) => {
        const ids = ['abc-1', 'abc-2', 'abd-1', 'b-1', 'a%c', 'a_c']
        for (const [i, id] of ids.entries()) await write(store, create(id, { owner: 'n1', createdAt: T0 + i * 10 }))
        const list = async (filter: Omit<ExecutionFilter, 'limit'>) => (await store.listExecutions({ ...filter, limit: 50 })).items.map((e) => e.id)
        expect(await list({ idPrefix: 'abc' })).toEqual(['abc-2', 'abc-1'])
        expect(await list({ idPrefix: 'ab' })).toEqual(['abd-1', 'abc-2', 'abc-1'])
        expect(await list({ idPrefix: 'abc-1' })).toEqual(['abc-1'])
        // LIKE's wildcards are plain text here.
        expect(await list({ idPrefix: 'a%' })).toEqual(['a%c'])
        expect(await list({ idPrefix: 'a_' })).toEqual(['a_c'])
        expect(await list({ idPrefix: 'ABC' })).toEqual([])
        expect(await list({ createdAfter: T0 + 10, createdBefore: T0 + 30 })).toEqual(['abd-1', 'abc-2'])
        expect(await list({ createdAfter: T0 + 45 })).toEqual(['a_c'])
        expect(await list({ createdBefore: T0 + 1 })).toEqual(['abc-1'])
        expect(await list({ idPrefix: 'ab', createdAfter: T0 + 5, status: 'running' })).toEqual(['abd-1', 'abc-2'])
        expect(await list({ ids: ['b-1', 'abc-1', 'missing'] })).toEqual(['b-1', 'abc-1'])
        expect(await list({ ids: [] })).toEqual([])
        const firstPage = await store.listExecutions({ idPrefix: 'a', limit: 2 })
        expect(firstPage.items.map((e) => e.id)).toEqual(['a_c', 'a%c'])
        expect((await store.listExecutions({ idPrefix: 'a', limit: 2, cursor: firstPage.nextCursor ?? '' })).items.map((e) => e.id)).toEqual(['abd-1', 'abc-2'])
      }))

      it('finds the executions whose status may have changed since a time: unfinished ones updated since, and those finished since', withStore(async (store) => {
        await write(store, create('running-idle', { owner: 'n1' }))
        await write(store, create('running-stepped', { owner: 'n1' }))
        await write(store, next('running-stepped', 'n1', 1, { at: T0 + 100 }))
        await write(store, create('finished-before', { owner: 'n1' }))
        await write(store, next('finished-before', 'n1', 1, { at: T0 + 10, end: 'completed' }))
        await write(store, create('finished-since', { owner: 'n1' }))
        await write(store, next('finished-since', 'n1', 1, { at: T0 + 100, end: 'failed' }))
        await write(store, create('queued-since', { owner: null, createdAt: T0 + 100 }))
        const changed = await store.listExecutions({ changedSince: T0 + 50, limit: 50 })
        expect(changed.items.map((e) => e.id).sort()).toEqual(['finished-since', 'queued-since', 'running-stepped'])
        expect((await store.listExecutions({ changedSince: T0 + 101, limit: 50 })).items).toEqual([])
        expect((await store.listExecutions({ changedSince: T0, limit: 50 })).items).toHaveLength(5)
        // It pages like any listing.
        const first = await store.listExecutions({ changedSince: T0 + 50, limit: 2 })
        const second = await store.listExecutions({ changedSince: T0 + 50, limit: 2, cursor: first.nextCursor ?? '' })
        expect([...first.items, ...second.items].map((e) => e.id)).toEqual(changed.items.map((e) => e.id))
        expect(second.nextCursor).toBeNull()
      }))

      it('counts only queued executions: pending and held by nobody', withStore(async (store) => {
        expect(await store.countQueued()).toBe(0)
        await write(store, create('q1', { owner: null }))
        await write(store, create('q2', { owner: null }))
        await write(store, create('r1', { owner: 'n1' }))
        expect(await store.countQueued()).toBe(2)
        await store.claim({ owner: 'n2', limit: 1, now: T0, leaseMs: LEASE_MS, deadOwners: [] })
        expect(await store.countQueued()).toBe(1)
        expect((await store.listUnfinished(10)).map((e) => e.id).sort()).toEqual(['q1', 'q2', 'r1'])
      }))
    })

    describe('flows', () => {
      it('registers versions 1, 2, 3 of a flow, even when registered at once', withStore(async (store) => {
        const first = await store.registerFlow('h1', flow('f'), T0)
        expect(first).toMatchObject({ id: 'f', version: 1, definitionHash: 'h1', createdAt: T0 })
        const more = await Promise.all([store.registerFlow('h2', flow('f', 'two'), T0 + 1), store.registerFlow('h3', flow('f', 'three'), T0 + 2)])
        expect(more.map((r) => r.version).sort()).toEqual([2, 3])
        const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => store.registerFlow(`hb${i}`, flow('g', `g${i}`), T0)))
        expect(burst.map((r) => r.version).sort()).toEqual([1, 2, 3, 4, 5, 6])
        expect((await store.getFlow('f'))?.version).toBe(3)
        expect((await store.getFlow('f', 1))?.flow).toEqual(flow('f'))
        expect(await store.getFlow('f', 9)).toBeUndefined()
        expect(await store.getDefinition('h2')).toEqual(flow('f', 'two'))
        expect(await store.getDefinition('nope')).toBeUndefined()
      }))

      it('answers the latest version instead of adding one when the definition is unchanged, even when registered at once', withStore(async (store) => {
        expect(await store.registerFlow('u1', flow('u'), T0)).toMatchObject({ version: 1, created: true })
        expect(await store.registerFlow('u1', flow('u'), T0 + 1)).toMatchObject({ version: 1, definitionHash: 'u1', createdAt: T0, flow: flow('u'), created: false })
        expect(await store.registerFlow('u2', flow('u', 'two'), T0 + 2)).toMatchObject({ version: 2, created: true })
        // Going back to an earlier definition makes it the latest again: a new version.
        expect(await store.registerFlow('u1', flow('u'), T0 + 3)).toMatchObject({ version: 3, created: true })
        // Racing registrations of one new definition make one version; the others answer it.
        const burst = await Promise.all(Array.from({ length: 6 }, () => store.registerFlow('u4', flow('u', 'four'), T0 + 4)))
        expect(burst.map((r) => r.version)).toEqual([4, 4, 4, 4, 4, 4])
        expect(burst.filter((r) => r.created)).toHaveLength(1)
        expect((await store.getFlow('u'))?.version).toBe(4)
      }))

      it('pages the latest version of each flow by id', withStore(async (store) => {
        for (const id of ['c', 'a', 'b', 'B', 'd']) await store.registerFlow(`h-${id}`, flow(id), T0)
        await store.registerFlow('h-b2', flow('b', 'b two'), T0 + 1)
        const first = await store.listFlows(3)
        expect(first.items.map((f) => [f.id, f.version])).toEqual([['B', 1], ['a', 1], ['b', 2]])
        const second = await store.listFlows(3, first.nextCursor!)
        expect(second.items.map((f) => f.id)).toEqual(['c', 'd'])
        expect(second.nextCursor).toBeNull()
      }))
    })

    it('answers a ping', withStore(async (store) => {
      await expect(store.ping()).resolves.toBeUndefined()
    }))
  })
}
