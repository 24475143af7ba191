import { describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/store.js'
import { claimContract } from './contract-claims.js'
import { childContract } from './contract-children.js'
import { readContract } from './contract-reads.js'
import { runContract } from './contract-runs.js'
import { stepContract } from './contract-steps.js'
import { flow, T0 } from './steps.js'

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
