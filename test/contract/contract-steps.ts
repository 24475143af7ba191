import { describe, expect, it } from 'vitest'
import { LeaseLostError } from '../../src/store/store.js'
import type { WithStore } from './store-contract.js'
import { create, LEASE_MS, next, step, T0, thread, write } from './steps.js'

/** Step writes as a whole: what they record, the lease fence, takeover, idempotency keys. */
export function stepContract(withStore: WithStore): void {
  describe('step writes', () => {
    it('shows the execution, its task runs and its events once the write has resolved', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1', input: { x: [1, 'two'] } }))
      await write(store, next('e1', 'n1', 1))
      const detail = await store.getExecution('e1')
      expect(detail?.execution).toEqual({
        id: 'e1',
        flowId: 'flow-a',
        flowVersion: 1,
        definitionHash: 'hash-a',
        status: 'running',
        input: { x: [1, 'two'] },
        currentTask: 't2',
        steps: 2,
        stepBase: 0,
        seq: 2,
        failedTask: null,
        error: null,
        deadline: null,
        threads: [thread('t2', 2)],
        nextThread: 1,
        idempotencyKey: null,
        createdAt: T0,
        startedAt: T0,
        finishedAt: null,
        leaseOwner: 'n1',
        wakeAt: null,
        cancelRequested: false,
        eventSeq: 4,
        storedBytes: 0,
        poke: 0,
        parent: null,
        depth: 0,
      })
      const base = { executionId: 'e1', taskType: 'noop', attempt: 1, error: null, parentSeq: null, branch: null, itemIndex: null, waitingFor: null, retryAt: null }
      expect(detail?.runs).toEqual([
        { ...base, seq: 1, taskName: 't1', status: 'success', data: { seq: 1 }, startedAt: T0, finishedAt: T0 + 1, durationMs: 1.5, nextTask: 't2' },
        { ...base, seq: 2, taskName: 't2', status: 'running', data: null, startedAt: T0 + 1, finishedAt: null, durationMs: null, nextTask: null },
      ])
      expect(detail?.totalRuns).toBe(2)
      expect(await store.getExecutionRecord('e1')).toEqual(detail?.execution)
      const events = await store.listEvents('e1', 0, 100)
      expect(events.map((e) => [e.seq, e.type, e.taskName])).toEqual([
        [1, 'execution_started', null],
        [2, 'task_started', 't1'],
        [3, 'task_finished', 't1'],
        [4, 'task_started', 't2'],
      ])
      expect(events[2]).toEqual({ executionId: 'e1', seq: 3, type: 'task_finished', at: T0 + 1, taskName: 't1', data: { n: 3 } })
      expect(await store.getExecution('missing')).toBeUndefined()
      expect(await store.getExecutionRecord('missing')).toBeUndefined()
    }))

    it('keeps what the state says: threads, deadline, counters, error', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      const threads = [
        { ...thread('fan', 2, 'group'), join: { kind: 'group' as const, queue: [{ first: 'c', at: 'c' }], outcomes: [{ first: 'a', last: 'a', status: 'success' as const }] } },
        { ...thread('b', 3), id: 1, parent: 0, branch: 'b', wakeAt: T0 + 500, waiting: { kind: 'timer' as const, until: T0 + 500 }, phase: 'parked' as const },
      ]
      const s = step('e1', 'n1', { at: T0 + 5, seq: 3, threads })
      await write(store, { ...s, state: { ...s.state, steps: 7, stepBase: 2, deadline: T0 + 60_000, nextThread: 5, storedBytes: 123_456_789_012, eventSeq: 9 } })
      expect((await store.getExecution('e1'))?.execution).toMatchObject({ threads, steps: 7, stepBase: 2, seq: 3, deadline: T0 + 60_000, nextThread: 5, storedBytes: 123_456_789_012, eventSeq: 9 })
      await write(store, next('e1', 'n1', 3, { end: 'failed' }))
      expect((await store.getExecution('e1'))?.execution).toMatchObject({
        status: 'failed',
        failedTask: 't3',
        error: { code: 'TASK_FAILED', message: 'task "t3" failed' },
        threads: [],
        finishedAt: T0 + 3,
        leaseOwner: null,
      })
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
      await expect(write(store, next('missing', 'n1', 1))).rejects.toBeInstanceOf(LeaseLostError)
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

    it('replaces the input when a step gives a new one (a resume with input), and keeps it otherwise', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1', input: { v: 1 } }))
      await write(store, next('e1', 'n1', 1, { end: 'failed' }))
      await write(store, { ...step('e1', 'n2', { at: T0 + 10, seq: 2, takeover: true, inputJson: '{"v":2,"more":[true]}' }) })
      expect((await store.getExecution('e1'))?.execution).toMatchObject({ input: { v: 2, more: [true] }, leaseOwner: 'n2' })
      await write(store, step('e1', 'n2', { at: T0 + 11, seq: 3 }))
      expect((await store.getExecution('e1'))?.execution.input).toEqual({ v: 2, more: [true] })
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
      await expect(write(store, create('e2', { owner: 'n1', idempotencyKey: 'key-1' }))).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' })
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
      expect(await store.listEvents(loser, 0, 10)).toEqual([])
      expect((await store.getExecution(winner!.id))?.runs).toHaveLength(1)
    }))

    it('refuses a second execution with a taken id, and leaves the first as it was', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1', input: { first: true } }))
      await expect(write(store, create('e1', { owner: 'n2', input: { first: false } }))).rejects.toThrow(/e1/)
      expect((await store.getExecution('e1'))?.execution).toMatchObject({ input: { first: true }, leaseOwner: 'n1' })
      expect(await store.listEvents('e1', 0, 10)).toHaveLength(2)
    }))
  })
}
