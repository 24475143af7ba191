import { describe, expect, it } from 'vitest'
import type { ExecutionFilter, Store } from '../../src/store/store.js'
import { claimContract } from './contract-claims.js'
import { childContract } from './contract-children.js'
import { readContract } from './contract-reads.js'
import { runContract } from './contract-runs.js'
import { stepContract } from './contract-steps.js'
import { create, flow, next, T0, write } from './steps.js'

export interface OpenedStore {
  readonly store: Store
  /** Closes the store and removes what it kept. */
  readonly cleanup: () => Promise<void>
}

/** Wraps a test body so that it runs on a fresh, empty store, cleaned up whatever happens. */
export type WithStore = (fn: (store: Store) => Promise<void>) => () => Promise<void>

/**
 * The contract every Store adapter keeps, run against each one. `open` gives an empty store for
 * one test; the suite closes it after.
 */
export function describeStore(name: string, open: () => Promise<OpenedStore>): void {
  const withStore: WithStore = (fn) => async () => {
    const { store, cleanup } = await open()
    try {
      await fn(store)
    } finally {
      await cleanup()
    }
  }

  describe(`the ${name} store`, () => {
    stepContract(withStore)
    runContract(withStore)
    claimContract(withStore)
    childContract(withStore)
    readContract(withStore)

    describe('listings', () => {
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
    })

    describe('flows', () => {
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

      it('keeps one definition per hash: storing it again changes nothing', withStore(async (store) => {
        await store.putDefinition('h1', flow('f', 'first'))
        await store.putDefinition('h1', flow('f', 'second'))
        expect(await store.getDefinition('h1')).toEqual(flow('f', 'first'))
      }))

      it('pages the latest version of each flow by id', withStore(async (store) => {
        for (const id of ['c', 'a', 'b', 'B', 'd']) await store.registerFlow(`h-${id}`, flow(id), T0)
        await store.registerFlow('h-b2', flow('b', 'b two'), T0 + 1)
        const first = await store.listFlows(3)
        expect(first.items.map((f) => [f.id, f.version])).toEqual([['B', 1], ['a', 1], ['b', 2]])
        const second = await store.listFlows(3, first.nextCursor!)
        expect(second.items.map((f) => f.id)).toEqual(['c', 'd'])
        expect(second.nextCursor).toBeNull()
        await expect(store.listFlows(3, 'not-a-cursor')).rejects.toMatchObject({ code: 'INPUT_INVALID' })
      }))
    })

    it('answers a ping', withStore(async (store) => {
      await expect(store.ping()).resolves.toBeUndefined()
    }))
  })
}
