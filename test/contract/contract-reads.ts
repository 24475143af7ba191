import { describe, expect, it } from 'vitest'
import type { RunWrite, Store } from '../../src/store/store.js'
import type { WithStore } from './store-contract.js'
import { create, LEASE_MS, next, runEnd, startRun, step, T0, write } from './steps.js'

/** `{"d":"xxx…"}`: JSON text of exactly `bytes` characters (at least 8). */
const dataOf = (bytes: number): string => JSON.stringify({ d: 'x'.repeat(bytes - 8) })
const seqs = (runs: readonly { seq: number }[] | undefined): number[] => (runs ?? []).map((r) => r.seq)

/** An execution whose runs 1…6 hold 108, no, 58, 58 and no bytes of data, and whose run 6 still runs. */
async function sizedRuns(store: Store): Promise<void> {
  await write(store, create('e1', { owner: 'n1' }))
  const sizes = [108, undefined, 58, 58, undefined]
  const runs: RunWrite[] = [{ kind: 'end', seq: 1, ...runEnd(T0 + 1, { dataJson: dataOf(108) }) }]
  sizes.slice(1).forEach((size, i) => runs.push(startRun(i + 2, `t${i + 2}`, T0 + 1, { end: runEnd(T0 + 1, { dataJson: size === undefined ? undefined : dataOf(size) }) })))
  runs.push(startRun(6, 't6', T0 + 1))
  await write(store, step('e1', 'n1', { at: T0 + 1, seq: 6, runs }))
}

/** Reading executions back: bounded details, task run pages, the recovery snapshot, events, listings. */
export function readContract(withStore: WithStore): void {
  describe('bounded reads', () => {
    it('gives the latest runs, with the data of the newest within the byte budget, and how many runs there are', withStore(async (store) => {
      await sizedRuns(store)
      const all = await store.getExecution('e1')
      expect(all?.totalRuns).toBe(6)
      const bounded = await store.getExecution('e1', { maxRuns: 4, maxDataBytes: 100 })
      expect(bounded?.totalRuns).toBe(6)
      expect(bounded?.execution).toEqual(all?.execution)
      expect(bounded?.runs.map((r) => [r.seq, r.dataOmitted ?? false, r.data === null])).toEqual([
        [3, true, true],
        [4, false, false],
        [5, false, true],
        [6, false, true],
      ])
      expect(bounded?.runs.slice(1)).toEqual(all?.runs.slice(3))
      expect(bounded?.runs[0]).toEqual({ ...all?.runs[2], data: null, dataOmitted: true })
      // The newest data alone is over the budget: no run keeps its data.
      const tight = await store.getExecution('e1', { maxRuns: 10, maxDataBytes: 57 })
      expect(tight?.runs.filter((r) => r.dataOmitted === true).map((r) => r.seq)).toEqual([1, 3, 4])
      expect(tight?.runs.every((r) => r.data === null)).toBe(true)
      const roomy = await store.getExecution('e1', { maxRuns: 10, maxDataBytes: 10_000 })
      expect(roomy?.runs).toEqual(all?.runs)
      // Once the newest run has data over the budget, no run keeps its data.
      await write(store, step('e1', 'n1', { at: T0 + 2, seq: 6, runs: [{ kind: 'end', seq: 6, ...runEnd(T0 + 2, { dataJson: dataOf(58) }) }] }))
      const none = await store.getExecution('e1', { maxRuns: 3, maxDataBytes: 57 })
      expect(none?.runs.map((r) => [r.seq, r.dataOmitted ?? false, r.data])).toEqual([[4, true, null], [5, false, null], [6, true, null]])
      expect(await store.getExecution('missing', { maxRuns: 1, maxDataBytes: 1 })).toBeUndefined()
      expect(await store.getExecution('e1', { maxRuns: 0, maxDataBytes: 1000 })).toMatchObject({ runs: [], totalRuns: 6 })
    }))

    it('pages task runs after a sequence number, by count and by bytes of data, always at least one', withStore(async (store) => {
      await sizedRuns(store)
      const all = (await store.getExecution('e1'))?.runs
      const page = await store.listTaskRuns('e1', 0, 10, 50)
      expect(page).toEqual(all?.slice(0, 1))
      expect(seqs(await store.listTaskRuns('e1', 1, 10, 58))).toEqual([2, 3])
      expect(seqs(await store.listTaskRuns('e1', 1, 10, 116))).toEqual([2, 3, 4, 5, 6])
      expect(seqs(await store.listTaskRuns('e1', 1, 3, 10_000))).toEqual([2, 3, 4])
      expect(await store.listTaskRuns('e1', 6, 10, 10_000)).toEqual([])
      expect(await store.listTaskRuns('missing', 0, 10, 10_000)).toEqual([])
    }))
  })

  describe('recovery', () => {
    it('loads the latest ended run of each task, the open runs, and each open fan-out with its items and ended item runs', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      const ended = (seq: number, task: string, extra: Parameters<typeof startRun>[3] = {}) => startRun(seq, task, T0 + 1, { ...extra, end: runEnd(T0 + 1, { dataJson: JSON.stringify({ seq }), ...extra.end }) })
      const failure = { status: 'failure' as const, error: { message: 'no' } }
      await write(store, step('e1', 'n1', {
        at: T0 + 1,
        seq: 9,
        runs: [
          { kind: 'end', seq: 1, ...runEnd(T0 + 1, { dataJson: '{"seq":1}' }) },
          ended(2, 't2', { end: runEnd(T0 + 1, failure) }),
          ended(3, 't1'),
          startRun(4, 'each', T0 + 1, { itemsJson: '["a","b","c"]' }),
          ended(5, 'each', { parentSeq: 4, itemIndex: 0 }),
          ended(6, 'each', { parentSeq: 4, itemIndex: 1, end: runEnd(T0 + 1, failure) }),
          startRun(7, 'each', T0 + 1, { parentSeq: 4, itemIndex: 2 }),
          startRun(8, 't3', T0 + 1),
          startRun(9, 'ask', T0 + 1, { waitingForJson: '{"signal":"go"}' }),
        ],
      }))
      await write(store, step('e1', 'n1', { at: T0 + 2, seq: 9, runs: [{ kind: 'interrupt', seq: 8, at: T0 + 2 }] }))
      const all = (await store.getExecution('e1'))!.runs
      const snapshot = await store.loadForRecovery('e1')
      expect(snapshot?.execution).toEqual(await store.getExecutionRecord('e1'))
      expect(seqs(snapshot?.latest)).toEqual([2, 3])
      expect(snapshot?.latest).toEqual([all[1], all[2]])
      expect(seqs(await store.latestResults('e1'))).toEqual([2, 3])
      expect(snapshot?.open).toEqual([all[3], all[6], all[8]])
      expect(snapshot?.fanouts).toEqual([{ seq: 4, items: ['a', 'b', 'c'], ended: [all[4]] }])
      expect(await store.loadForRecovery('missing')).toBeUndefined()
      expect(await store.latestResults('missing')).toEqual([])
    }))
  })

  describe('events and listings', () => {
    it('pages the event log after a sequence number', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      for (let seq = 1; seq <= 4; seq++) await write(store, next('e1', 'n1', seq, seq === 4 ? { end: 'completed' } : {}))
      const pages = [await store.listEvents('e1', 0, 4), await store.listEvents('e1', 4, 4), await store.listEvents('e1', 8, 4), await store.listEvents('e1', 10, 4)]
      expect(pages.map((p) => p.map((e) => e.seq))).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10], []])
      expect(pages[2]?.map((e) => e.type)).toEqual(['task_finished', 'execution_finished'])
      expect((await store.listEvents('e1', 3, 2)).map((e) => e.seq)).toEqual([4, 5])
      expect(await store.listEvents('missing', 0, 10)).toEqual([])
    }))

    it('answers the status of each execution asked for that exists', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      await write(store, create('e2', { owner: 'n1' }))
      await write(store, next('e2', 'n1', 1, { end: 'completed' }))
      const statuses = await store.statuses(['e1', 'e2', 'missing'])
      expect([...statuses.entries()].sort()).toEqual([['e1', 'running'], ['e2', 'completed']])
      expect((await store.statuses([])).size).toBe(0)
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

    it('counts only queued executions: pending and held by nobody', withStore(async (store) => {
      expect(await store.countQueued()).toBe(0)
      await write(store, create('q1', { owner: null }))
      await write(store, create('q2', { owner: null }))
      await write(store, create('r1', { owner: 'n1' }))
      expect(await store.countQueued()).toBe(2)
      await store.claim({ owner: 'n2', limit: 1, now: T0, leaseMs: LEASE_MS, deadOwners: [] })
      expect(await store.countQueued()).toBe(1)
      expect([...(await store.listLeaseOwners())].sort()).toEqual(['n1', 'n2'])
    }))
  })
}
