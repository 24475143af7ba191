import { describe, expect, it } from 'vitest'
import { LeaseLostError, NEVER, type Store } from '../../src/store/store.js'
import type { WithStore } from './store-contract.js'
import { create, LEASE_MS, newExecution, next, runEnd, startRun, step, T0, write } from './steps.js'

const record = async (store: Store, id: string) => (await store.getExecutionRecord(id))!
const childOf = (id: string, parent: string, seq: number, createdAt = T0 + 1) =>
  newExecution(id, { createdAt, flowId: 'child-flow', input: { from: parent }, parent: { executionId: parent, seq, task: 'sub' } })

/** A parent whose run `seq` 2 starts sub-flow `child`, and parks waiting for it. */
async function parentWaiting(store: Store, parent: string, child: string, options: { park: boolean }): Promise<void> {
  await write(store, create(parent, { owner: 'n1' }))
  const waiting = JSON.stringify({ child })
  await write(store, step(parent, 'n1', {
    at: T0 + 1,
    seq: 2,
    runs: [startRun(2, 'sub', T0 + 1, { taskType: 'subflow', waitingForJson: waiting })],
    children: [childOf(child, parent, 2)],
    ...(options.park ? { leaseExpiresAt: null, wakeAt: NEVER } : {}),
  }))
}

/** A child's final step: it ends, and wakes its parent to take the result. */
const childEnds = (child: string, parent: string, owner: string, at: number) => ({ ...next(child, owner, 1, { at, end: 'completed' }), wakeParent: parent })

/** Sub-flow executions and signals: what a step creates, cancels, wakes and consumes beyond its own row. */
export function childContract(withStore: WithStore): void {
  describe('sub-flow executions', () => {
    it('creates children queued, linked to their parent, for any node to claim', withStore(async (store) => {
      await parentWaiting(store, 'p1', 'c1', { park: true })
      expect(await record(store, 'c1')).toMatchObject({
        status: 'pending',
        flowId: 'child-flow',
        input: { from: 'p1' },
        leaseOwner: null,
        wakeAt: T0 + 1,
        parent: { executionId: 'p1', seq: 2, task: 'sub' },
        depth: 1,
        createdAt: T0 + 1,
      })
      expect((await store.getExecution('p1'))?.runs[1]).toMatchObject({ status: 'waiting', waitingFor: { child: 'c1' } })
      expect((await store.listChildren('p1', [2])).map((e) => e.id)).toEqual(['c1'])
      expect(await store.listChildren('p1', [1])).toEqual([])
      expect(await store.listChildren('p1', [])).toEqual([])
      expect((await store.listExecutions({ limit: 10, parentExecutionId: 'p1' })).items.map((e) => e.id)).toEqual(['c1'])
      expect(await store.countQueued()).toBe(1)
      expect((await store.claim({ owner: 'n2', limit: 10, now: T0 + 2, leaseMs: LEASE_MS, deadOwners: [] })).map((e) => e.id)).toEqual(['c1'])
    }))

    it('creates no child when the step that starts it is fenced out', withStore(async (store) => {
      await write(store, create('p1', { owner: 'n1' }))
      const fenced = step('p1', 'n2', { at: T0 + 1, seq: 2, runs: [startRun(2, 'sub', T0 + 1)], children: [childOf('c1', 'p1', 2)] })
      await expect(write(store, fenced)).rejects.toBeInstanceOf(LeaseLostError)
      expect(await store.getExecution('c1')).toBeUndefined()
      expect(await store.listChildren('p1', [2])).toEqual([])
    }))

    it('asks children to cancel: wakes one nobody holds, and leaves the wake time of a held one', withStore(async (store) => {
      await write(store, create('p1', { owner: 'n1' }))
      const children = [childOf('queued', 'p1', 2), childOf('held', 'p1', 3), childOf('parked', 'p1', 4), childOf('done', 'p1', 5)]
      await write(store, step('p1', 'n1', { at: T0 + 1, seq: 5, children }))
      await store.claim({ owner: 'n2', limit: 10, now: T0 + 2, leaseMs: LEASE_MS, deadOwners: [], onlyIds: ['held', 'parked', 'done'] })
      await write(store, step('parked', 'n2', { at: T0 + 3, seq: 0, leaseExpiresAt: null, wakeAt: NEVER }))
      await write(store, step('done', 'n2', { at: T0 + 3, seq: 0, status: 'completed', leaseExpiresAt: null }))
      const cancel = ['queued', 'held', 'parked', 'done', 'missing']
      await expect(write(store, step('p1', 'n9', { at: T0 + 9, seq: 5, cancelChildren: cancel }))).rejects.toBeInstanceOf(LeaseLostError)
      expect((await record(store, 'held')).cancelRequested).toBe(false)
      await write(store, step('p1', 'n1', { at: T0 + 10, seq: 5, status: 'cancelled', leaseExpiresAt: null, cancelChildren: cancel }))
      expect(await record(store, 'queued')).toMatchObject({ cancelRequested: true, poke: 1, wakeAt: T0 + 1, leaseOwner: null })
      expect(await record(store, 'held')).toMatchObject({ cancelRequested: true, poke: 1, wakeAt: null, leaseOwner: 'n2' })
      expect(await record(store, 'parked')).toMatchObject({ cancelRequested: true, poke: 1, wakeAt: T0 + 10 })
      expect(await record(store, 'done')).toMatchObject({ cancelRequested: false, poke: 0, status: 'completed' })
      expect((await store.heartbeat('n2', ['held'], T0 + 11, LEASE_MS)).cancelRequested).toEqual(['held'])
    }))

    it("wakes a parked parent when a child's final step is written: due now, poked", withStore(async (store) => {
      await parentWaiting(store, 'p1', 'c1', { park: true })
      await store.claim({ owner: 'n2', limit: 1, now: T0 + 2, leaseMs: LEASE_MS, deadOwners: [] })
      expect(await store.claim({ owner: 'n3', limit: 10, now: T0 + 3, leaseMs: LEASE_MS, deadOwners: [] })).toEqual([])
      await write(store, { ...step('c1', 'n2', { at: T0 + 5, seq: 1, runs: [startRun(1, 'only', T0 + 5, { end: runEnd(T0 + 5) })], status: 'completed', leaseExpiresAt: null }), wakeParent: 'p1' })
      expect(await record(store, 'p1')).toMatchObject({ wakeAt: T0 + 5, poke: 1, leaseOwner: null })
      expect(await record(store, 'c1')).toMatchObject({ status: 'completed', leaseOwner: null })
      expect((await store.claim({ owner: 'n3', limit: 10, now: T0 + 5, leaseMs: LEASE_MS, deadOwners: [] })).map((e) => e.id)).toEqual(['p1'])
    }))

    it("pokes a held parent without touching its wake time, and a fenced child's end wakes nobody", withStore(async (store) => {
      await parentWaiting(store, 'p1', 'c1', { park: false })
      await store.claim({ owner: 'n2', limit: 1, now: T0 + 2, leaseMs: LEASE_MS, deadOwners: [], onlyIds: ['c1'] })
      await write(store, step('c1', 'n2', { at: T0 + 3, seq: 1, runs: [startRun(1, 't1', T0 + 3)] }))
      await expect(write(store, childEnds('c1', 'p1', 'n9', T0 + 4))).rejects.toBeInstanceOf(LeaseLostError)
      expect(await record(store, 'p1')).toMatchObject({ poke: 0, wakeAt: null, leaseOwner: 'n1' })
      await write(store, childEnds('c1', 'p1', 'n2', T0 + 5))
      expect(await record(store, 'p1')).toMatchObject({ poke: 1, wakeAt: null, leaseOwner: 'n1' })
      expect((await store.heartbeat('n1', ['p1'], T0 + 6, LEASE_MS)).pokes).toEqual([{ id: 'p1', poke: 1 }])
    }))
  })

  describe('wake-ups that come while a node holds the execution', () => {
    it('leaves the execution due at once when a step hands it back without having seen the latest poke', withStore(async (store) => {
      for (const id of ['unseen', 'seen', 'unsaid', 'held', 'cancel']) await write(store, create(id, { owner: 'n1' }))
      for (const id of ['unseen', 'seen', 'unsaid', 'held']) expect(await store.addSignal(id, 'go', '{}', T0 + 1)).toBe('added')
      await store.requestCancel('cancel', T0 + 1)
      const park = (id: string, pokeSeen?: number) => ({ ...step(id, 'n1', { at: T0 + 5, seq: 1, leaseExpiresAt: null, wakeAt: NEVER }), ...(pokeSeen === undefined ? {} : { pokeSeen }) })
      await write(store, park('unseen', 0))
      await write(store, park('seen', 1))
      await write(store, park('unsaid'))
      await write(store, park('cancel', 0))
      await write(store, { ...step('held', 'n1', { at: T0 + 5, seq: 1 }), pokeSeen: 0 })
      expect(await record(store, 'unseen')).toMatchObject({ wakeAt: T0 + 5, leaseOwner: null, poke: 1 })
      expect(await record(store, 'cancel')).toMatchObject({ wakeAt: T0 + 5, cancelRequested: true })
      expect((await record(store, 'seen')).wakeAt).toBe(NEVER)
      expect((await record(store, 'unsaid')).wakeAt).toBe(NEVER)
      expect(await record(store, 'held')).toMatchObject({ wakeAt: null, leaseOwner: 'n1' })
      const claimed = await store.claim({ owner: 'n2', limit: 10, now: T0 + 5, leaseMs: LEASE_MS, deadOwners: [] })
      expect(claimed.map((e) => e.id).sort()).toEqual(['cancel', 'unseen'])
    }))

    it('keeps an earlier wake time, and does not wake an execution its step finishes', withStore(async (store) => {
      await write(store, create('timer', { owner: 'n1' }))
      await write(store, create('done', { owner: 'n1' }))
      await store.poke('timer', T0 + 1)
      await store.poke('done', T0 + 1)
      await write(store, { ...step('timer', 'n1', { at: T0 + 5, seq: 1, leaseExpiresAt: null, wakeAt: T0 + 2 }), pokeSeen: 0 })
      await write(store, { ...next('done', 'n1', 1, { at: T0 + 5, end: 'completed' }), pokeSeen: 0 })
      expect((await record(store, 'timer')).wakeAt).toBe(T0 + 2)
      expect((await record(store, 'done')).wakeAt).toBeNull()
    }))
  })

  describe('signals', () => {
    it('keeps signals in order until a step consumes them, once', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      expect(await store.addSignal('e1', 'approve', '{"by":"ann"}', T0 + 1)).toBe('added')
      expect(await store.addSignal('e1', 'approve', '{"by":"bob"}', T0 + 2)).toBe('added')
      expect(await store.addSignal('e1', 'other', '[1,2]', T0 + 3)).toBe('added')
      expect(await store.pendingSignals('e1', 10)).toEqual([
        { seq: 1, name: 'approve', payload: { by: 'ann' }, createdAt: T0 + 1 },
        { seq: 2, name: 'approve', payload: { by: 'bob' }, createdAt: T0 + 2 },
        { seq: 3, name: 'other', payload: [1, 2], createdAt: T0 + 3 },
      ])
      expect((await store.pendingSignals('e1', 2)).map((s) => s.seq)).toEqual([1, 2])
      // A step by a node that lost the lease consumes nothing.
      await expect(write(store, step('e1', 'n2', { at: T0 + 4, seq: 2, consumeSignals: [{ signalSeq: 1, runSeq: 2 }] }))).rejects.toBeInstanceOf(LeaseLostError)
      expect((await store.pendingSignals('e1', 10)).map((s) => s.seq)).toEqual([1, 2, 3])
      const run = startRun(2, 'wait', T0 + 5, { taskType: 'wait_for_signal', end: runEnd(T0 + 5, { dataJson: '{"by":"ann"}' }) })
      await write(store, step('e1', 'n1', { at: T0 + 5, seq: 2, runs: [run], consumeSignals: [{ signalSeq: 1, runSeq: 2 }] }))
      expect((await store.pendingSignals('e1', 10)).map((s) => s.seq)).toEqual([2, 3])
      await write(store, step('e1', 'n1', { at: T0 + 6, seq: 3, consumeSignals: [{ signalSeq: 3, runSeq: 3 }, { signalSeq: 1, runSeq: 3 }] }))
      expect((await store.pendingSignals('e1', 10)).map((s) => s.seq)).toEqual([2])
      expect(await store.addSignal('e1', 'approve', '{}', T0 + 7)).toBe('added')
      expect((await store.pendingSignals('e1', 10)).map((s) => s.seq)).toEqual([2, 4])
      expect(await store.pendingSignals('missing', 10)).toEqual([])
    }))

    it('numbers signals sent at once one after the other, none lost', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => store.addSignal('e1', `s${i}`, String(i), T0 + i)))
      expect(outcomes.every((o) => o === 'added')).toBe(true)
      const pending = await store.pendingSignals('e1', 100)
      expect(pending.map((s) => s.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
      expect(pending.map((s) => s.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`).sort())
      expect((await record(store, 'e1')).poke).toBe(20)
    }))

    it('wakes a parked execution when a signal arrives, and pokes a held one', withStore(async (store) => {
      await write(store, create('parked', { owner: 'n1' }))
      await write(store, step('parked', 'n1', { at: T0 + 1, seq: 1, leaseExpiresAt: null, wakeAt: T0 + 3_600_000 }))
      await write(store, create('held', { owner: 'n1' }))
      expect(await store.addSignal('parked', 'go', 'null', T0 + 10)).toBe('added')
      expect(await store.addSignal('held', 'go', '"yes"', T0 + 10)).toBe('added')
      expect(await record(store, 'parked')).toMatchObject({ wakeAt: T0 + 10, poke: 1, leaseOwner: null })
      expect(await record(store, 'held')).toMatchObject({ wakeAt: null, poke: 1, leaseOwner: 'n1' })
      expect((await store.pendingSignals('parked', 1))[0]?.payload).toBeNull()
      expect((await store.pendingSignals('held', 1))[0]?.payload).toBe('yes')
    }))

    it("answers 'not_found' for an unknown execution and 'finished' for a finished one, keeping nothing", withStore(async (store) => {
      expect(await store.addSignal('missing', 'go', '{}', T0)).toBe('not_found')
      await write(store, create('e1', { owner: 'n1' }))
      await write(store, next('e1', 'n1', 1, { end: 'completed' }))
      expect(await store.addSignal('e1', 'go', '{}', T0 + 5)).toBe('finished')
      expect(await store.pendingSignals('e1', 10)).toEqual([])
      expect(await store.pendingSignals('missing', 10)).toEqual([])
      expect((await store.getExecutionRecord('e1'))?.poke).toBe(0)
    }))
  })
}
