import { describe, expect, it } from 'vitest'
import type { OpenedStore } from './store-contract.js'
import { create, runEnd, startRun, step, T0, write } from './steps.js'

/** What the SQL stores keep beyond the contract every store keeps: statements the database refuses. */
export function describeSqlStore(name: string, open: () => Promise<OpenedStore>): void {
  describe(`the ${name} store's statements`, () => {
    it('fails a step the database refuses alone: the steps committed with it apply, and writes are not reported failing', async () => {
      const { store, cleanup } = await open()
      try {
        await Promise.all(['e1', 'e2', 'e3'].map((id) => write(store, create(id, { owner: 'n1' }))))
        // Run 1 of e2 exists already: starting it again breaks the task runs' key.
        const again = step('e2', 'n1', { at: T0 + 1, seq: 5, runs: [startRun(1, 't1', T0 + 1)] })
        const good = (id: string) => step(id, 'n1', { at: T0 + 1, seq: 2, runs: [{ kind: 'end', seq: 1, ...runEnd(T0 + 1) }, startRun(2, 't2', T0 + 1)] })
        const outcomes = await Promise.allSettled([write(store, good('e1')), write(store, again), write(store, good('e3'))])
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
        expect(store.writesFailing?.()).toBe(false)
        for (const id of ['e1', 'e3']) expect((await store.getExecution(id))?.runs.map((r) => r.status)).toEqual(['success', 'running'])
        // Nothing of the refused step was written: not its state, not its runs.
        const refused = await store.getExecution('e2')
        expect(refused?.execution.seq).toBe(1)
        expect(refused?.runs.map((r) => [r.seq, r.startedAt])).toEqual([[1, T0]])
      } finally {
        await cleanup()
      }
    })
  })
}
