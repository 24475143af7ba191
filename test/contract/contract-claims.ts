import { describe, expect, it } from 'vitest'
import { LeaseLostError, NEVER, type ClaimRequest, type Store } from '../../src/store/store.js'
import type { WithStore } from './store-contract.js'
import { create, LEASE_MS, next, seeded, step, T0, write } from './steps.js'

const claim = (store: Store, owner: string, now: number, more: Partial<ClaimRequest> = {}) =>
  store.claim({ owner, limit: 10, now, leaseMs: LEASE_MS, deadOwners: [], ...more })
const byId = <T extends { id: string }>(items: readonly T[]): T[] => [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
const ids = async (claimed: Promise<readonly { id: string }[]>): Promise<string[]> => (await claimed).map((e) => e.id).sort()

/** Parks an execution that `owner` holds: nobody holds it afterwards, and it is due at `wakeAt`. */
const park = (id: string, owner: string, at: number, wakeAt: number) => step(id, owner, { at, seq: 1, leaseExpiresAt: null, wakeAt })

/** Claims, leases, heartbeats, releases, wake-ups and liveness rows. */
export function claimContract(withStore: WithStore): void {
  describe('claims and leases', () => {
    it('claims queued executions, oldest first, up to the limit', withStore(async (store) => {
      for (const [id, at] of [['q-b', 3], ['q-a', 1], ['q-c', 2], ['q-d', 4]] as const) {
        await write(store, create(id, { owner: null, createdAt: T0 + at }))
      }
      expect(await store.countQueued()).toBe(4)
      const claimed = await claim(store, 'n1', T0 + 10, { limit: 2 })
      expect(claimed.map((e) => [e.id, e.leaseOwner, e.status, e.wakeAt]).sort()).toEqual([['q-a', 'n1', 'pending', null], ['q-c', 'n1', 'pending', null]])
      expect(await store.countQueued()).toBe(2)
      expect(await ids(claim(store, 'n2', T0 + 10))).toEqual(['q-b', 'q-d'])
      expect(await store.countQueued()).toBe(0)
      expect(await claim(store, 'n3', T0 + 10)).toEqual([])
      expect([...(await store.listLeaseOwners())].sort()).toEqual(['n1', 'n2'])
    }))

    it('claims an execution nobody holds whose wake time is unset at once', withStore(async (store) => {
      await write(store, { ...create('q1', { owner: null }), wakeAt: null })
      await write(store, create('e1', { owner: 'n1' }))
      await write(store, step('e1', 'n1', { at: T0 + 1, seq: 1, leaseExpiresAt: null, wakeAt: null }))
      expect(await ids(claim(store, 'n2', T0 + 2))).toEqual(['e1', 'q1'])
    }))

    it('claims only the listed executions when asked to', withStore(async (store) => {
      for (const id of ['q1', 'q2', 'q3']) await write(store, create(id, { owner: null }))
      expect(await ids(claim(store, 'n1', T0, { onlyIds: ['q2', 'q3', 'missing'] }))).toEqual(['q2', 'q3'])
      expect(await claim(store, 'n1', T0, { onlyIds: [] })).toEqual([])
      expect(await ids(claim(store, 'n1', T0))).toEqual(['q1'])
    }))

    it('never claims an execution whose lease is live, and claims it once the lease expires', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      const expiry = T0 + LEASE_MS
      expect(await claim(store, 'n2', expiry - 1)).toEqual([])
      const claimed = await claim(store, 'n2', expiry + 1)
      expect(claimed.map((e) => [e.id, e.leaseOwner, e.status])).toEqual([['e1', 'n2', 'running']])
      // The previous owner is fenced out; the new one writes.
      await expect(write(store, next('e1', 'n1', 1))).rejects.toBeInstanceOf(LeaseLostError)
      await write(store, next('e1', 'n2', 1))
      expect((await store.getExecution('e1'))?.runs.map((r) => r.status)).toEqual(['success', 'running'])
    }))

    it("claims a dead owner's executions at once, and not a live owner's", withStore(async (store) => {
      await write(store, create('dead-1', { owner: 'dead', createdAt: T0 + 1 }))
      await write(store, create('live-1', { owner: 'live', createdAt: T0 }))
      expect(await ids(claim(store, 'n2', T0 + 5, { deadOwners: ['dead'] }))).toEqual(['dead-1'])
      expect((await store.getExecution('live-1'))?.execution.leaseOwner).toBe('live')
    }))

    it('claims work cut off by a stopped owner before work that is merely due', withStore(async (store) => {
      await write(store, create('queued-old', { owner: null, createdAt: T0 - 1000 }))
      await write(store, create('expired', { owner: 'n1', createdAt: T0 }))
      await write(store, create('dead', { owner: 'gone', createdAt: T0 + 1 }))
      const now = T0 + LEASE_MS + 1
      expect(await ids(claim(store, 'n2', now, { limit: 2, deadOwners: ['gone'] }))).toEqual(['dead', 'expired'])
      expect(await ids(claim(store, 'n2', now))).toEqual(['queued-old'])
    }))

    it('takes only unowned due work when asked not to recover (a claim answering news of work)', withStore(async (store) => {
      await write(store, create('queued', { owner: null, createdAt: T0 }))
      await write(store, create('expired', { owner: 'n1', createdAt: T0 - 1000 }))
      await write(store, create('dead', { owner: 'gone', createdAt: T0 - 1000 }))
      const now = T0 + LEASE_MS + 1
      expect(await ids(claim(store, 'n2', now, { deadOwners: ['gone'], recover: false }))).toEqual(['queued'])
      expect(await ids(claim(store, 'n2', now, { deadOwners: ['gone'] }))).toEqual(['dead', 'expired'])
    }))

    it('claims parked executions once their wake time has come, earliest first', withStore(async (store) => {
      for (const [id, wake] of [['late', 300], ['early', 100], ['middle', 200]] as const) {
        await write(store, create(id, { owner: 'n1', createdAt: T0 - wake }))
        await write(store, park(id, 'n1', T0, T0 + wake))
      }
      expect((await store.getExecutionRecord('early'))?.wakeAt).toBe(T0 + 100)
      expect(await store.nextWake()).toBe(T0 + 100)
      expect(await claim(store, 'n2', T0 + 99)).toEqual([])
      expect(await ids(claim(store, 'n2', T0 + 250, { limit: 1 }))).toEqual(['early'])
      expect(await store.nextWake()).toBe(T0 + 200)
      expect(await ids(claim(store, 'n2', T0 + 250))).toEqual(['middle'])
      expect(await ids(claim(store, 'n2', T0 + 300))).toEqual(['late'])
      expect(await store.nextWake()).toBeNull()
    }))

    it('leaves an execution that waits to be woken alone until a poke wakes it', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      await write(store, park('e1', 'n1', T0 + 1, NEVER))
      expect(await claim(store, 'n2', T0 + 100 * LEASE_MS)).toEqual([])
      expect(await store.nextWake()).toBeNull()
      await store.poke('e1', T0 + 50)
      expect(await store.getExecutionRecord('e1')).toMatchObject({ wakeAt: T0 + 50, poke: 1, leaseOwner: null })
      expect(await store.nextWake()).toBe(T0 + 50)
      expect(await ids(claim(store, 'n2', T0 + 50))).toEqual(['e1'])
      // A poke of an owned execution counts, but its wake time stays its holder's business.
      await store.poke('e1', T0 + 60)
      expect(await store.getExecutionRecord('e1')).toMatchObject({ wakeAt: null, poke: 2, leaseOwner: 'n2' })
      // A poke never puts a due time later.
      await write(store, step('e1', 'n2', { at: T0 + 61, seq: 1, leaseExpiresAt: null, wakeAt: T0 + 70 }))
      await store.poke('e1', T0 + 80)
      expect(await store.getExecutionRecord('e1')).toMatchObject({ wakeAt: T0 + 70, poke: 3 })
    }))

    it('answers the earliest wake time of unowned unfinished executions only', withStore(async (store) => {
      expect(await store.nextWake()).toBeNull()
      await write(store, create('owned', { owner: 'n1', createdAt: T0 - 5000 }))
      await write(store, create('done', { owner: 'n1', createdAt: T0 - 4000 }))
      await write(store, next('done', 'n1', 1, { end: 'completed' }))
      expect(await store.nextWake()).toBeNull()
      await write(store, create('queued', { owner: null, createdAt: T0 + 7 }))
      expect(await store.nextWake()).toBe(T0 + 7)
    }))

    it('renews only the leases it is given, and reports their cancellations and pokes', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      await write(store, create('e2', { owner: 'n1' }))
      await write(store, create('e3', { owner: 'n1' }))
      await write(store, create('other', { owner: 'n2' }))
      const first = await store.heartbeat('n1', ['e1', 'e2', 'other', 'missing'], T0 + LEASE_MS - 1, LEASE_MS)
      expect(first.cancelRequested).toEqual([])
      expect(byId(first.pokes)).toEqual([{ id: 'e1', poke: 0 }, { id: 'e2', poke: 0 }])
      // e1 and e2 were renewed; e3 (not given) and other (not n1's) ran out.
      expect(await ids(claim(store, 'n3', T0 + LEASE_MS + 1))).toEqual(['e3', 'other'])
      await store.requestCancel('e2', T0 + LEASE_MS + 1)
      await store.poke('e1', T0 + LEASE_MS + 1)
      expect((await store.getExecution('e2'))?.execution).toMatchObject({ cancelRequested: true, leaseOwner: 'n1', wakeAt: null })
      const beat = await store.heartbeat('n1', ['e1', 'e2', 'e3'], T0 + LEASE_MS + 2, LEASE_MS)
      expect(beat.cancelRequested).toEqual(['e2'])
      expect(byId(beat.pokes)).toEqual([{ id: 'e1', poke: 1 }, { id: 'e2', poke: 1 }])
      expect(await store.heartbeat('nobody', ['e1'], T0, LEASE_MS)).toEqual({ cancelRequested: [], pokes: [] })
      expect(await store.heartbeat('n1', [], T0, LEASE_MS)).toEqual({ cancelRequested: [], pokes: [] })
    }))

    it('does not flag a finished execution for cancellation, and wakes a parked one to record it', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      await write(store, next('e1', 'n1', 1, { end: 'completed' }))
      await store.requestCancel('e1', T0 + 5)
      expect((await store.getExecution('e1'))?.execution).toMatchObject({ cancelRequested: false, poke: 0 })
      await write(store, create('e2', { owner: 'n1' }))
      await write(store, park('e2', 'n1', T0 + 1, NEVER))
      await store.requestCancel('e2', T0 + 5)
      expect((await store.getExecution('e2'))?.execution).toMatchObject({ cancelRequested: true, wakeAt: T0 + 5, poke: 1 })
      await store.requestCancel('missing', T0 + 5)
      expect(await ids(claim(store, 'n2', T0 + 5))).toEqual(['e2'])
    }))

    it("hands an owner's leases back on release, so another node claims them at once", withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      await write(store, create('e2', { owner: 'n2' }))
      await store.release('n1')
      expect((await store.getExecution('e1'))?.execution.leaseOwner).toBeNull()
      expect(await store.listLeaseOwners()).toEqual(['n2'])
      expect(await ids(claim(store, 'n3', T0 + 1))).toEqual(['e1'])
    }))

    it('releases only the executions it is given', withStore(async (store) => {
      for (const id of ['e1', 'e2', 'e3']) await write(store, create(id, { owner: 'n1' }))
      await store.release('n1', ['e2', 'e3'])
      await store.release('n1', [])
      await store.release('n2', ['e1'])
      expect(await store.listLeaseOwners()).toEqual(['n1'])
      expect(await ids(claim(store, 'n3', T0 + 1))).toEqual(['e2', 'e3'])
    }))

    it('never hands one execution to two of 8 owners claiming at once (3 seeds)', withStore(async (store) => {
      for (const seed of [1, 2, 3]) {
        const random = seeded(seed)
        const all = Array.from({ length: 50 }, (_, i) => `s${seed}-${String(i).padStart(2, '0')}`)
        await Promise.all(all.map((id, i) => write(store, create(id, { owner: null, createdAt: T0 + i }))))
        const owners = Array.from({ length: 8 }, (_, i) => `s${seed}-owner-${i}`)
        const got = new Map<string, string[]>()
        for (let round = 0; round < 100 && [...got.values()].flat().length < all.length; round++) {
          const claims = await Promise.all(
            owners
              .filter(() => random() < 0.8)
              .map(async (owner) => ({ owner, claimed: await claim(store, owner, T0 + 100, { limit: 1 + Math.floor(random() * 6) }) })),
          )
          for (const { owner, claimed } of claims) {
            for (const e of claimed) got.set(e.id, [...(got.get(e.id) ?? []), owner])
          }
        }
        expect([...got.keys()].sort()).toEqual(all)
        for (const [id, claimants] of got) {
          expect(claimants, `execution ${id} (seed ${seed})`).toHaveLength(1)
          expect((await store.getExecution(id))?.execution.leaseOwner).toBe(claimants[0])
        }
      }
    }))
  })

  describe('node liveness', () => {
    it('keeps one row per node, beats it, and removes it', withStore(async (store) => {
      const node = { id: 'node-a', host: 'h1', pid: 4242, machine: 'boot-1', startedAt: T0, beatAt: T0 }
      expect(await store.listNodes()).toEqual([])
      await store.beat(node)
      await store.beat({ id: 'node-b', host: 'h2', pid: 7, machine: 'boot-2', startedAt: T0 + 1, beatAt: T0 + 1 })
      await store.beat({ ...node, beatAt: T0 + 1000 })
      const nodes = [...(await store.listNodes())].sort((a, b) => a.id.localeCompare(b.id))
      expect(nodes).toEqual([{ ...node, beatAt: T0 + 1000 }, { id: 'node-b', host: 'h2', pid: 7, machine: 'boot-2', startedAt: T0 + 1, beatAt: T0 + 1 }])
      await store.removeNode('node-a')
      await store.removeNode('missing')
      expect((await store.listNodes()).map((n) => n.id)).toEqual(['node-b'])
    }))
  })
}
