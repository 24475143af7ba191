import { describe, expect, it } from 'vitest'
import type { TaskRunRecord } from '../../src/store/store.js'
import type { WithStore } from './store-contract.js'
import { create, runEnd, startRun, step, T0, write } from './steps.js'

const statusOf = (runs: readonly TaskRunRecord[] | undefined): [number, string][] => (runs ?? []).map((r) => [r.seq, r.status])

/** What a step does to one task run: start, end, both at once, park, interrupt. */
export function runContract(withStore: WithStore): void {
  describe('task runs', () => {
    it('records a run that starts and ends in one step as one ended run', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      const end = runEnd(T0 + 5, { dataJson: '{"value":"x"}', durationMs: 0, nextTask: 'next' })
      await write(store, step('e1', 'n1', { at: T0 + 5, seq: 2, runs: [startRun(2, 'instant', T0 + 5, { taskType: 'set', attempt: 2, end })] }))
      const runs = (await store.getExecution('e1'))?.runs
      expect(runs?.[1]).toEqual({
        executionId: 'e1',
        seq: 2,
        taskName: 'instant',
        taskType: 'set',
        attempt: 2,
        status: 'success',
        data: { value: 'x' },
        error: null,
        startedAt: T0 + 5,
        finishedAt: T0 + 5,
        durationMs: 0,
        nextTask: 'next',
        parentSeq: null,
        branch: null,
        itemIndex: null,
        waitingFor: null,
        retryAt: null,
      })
      expect(await store.getTaskRun('e1', 2)).toEqual(runs?.[1])
      expect(await store.getTaskRun('e1', 3)).toBeUndefined()
    }))

    it('records a failed run with its error and when it will be retried', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      const error = { message: 'boom', code: 'TASK_ERROR', name: 'Error', stack: 'Error: boom\n    at task', retryable: true }
      await write(store, step('e1', 'n1', { at: T0 + 3, seq: 1, runs: [{ kind: 'end', seq: 1, ...runEnd(T0 + 3, { status: 'failure', dataJson: undefined, error, retryAt: T0 + 1003 }) }] }))
      expect(await store.getTaskRun('e1', 1)).toMatchObject({ status: 'failure', data: null, error, finishedAt: T0 + 3, retryAt: T0 + 1003, nextTask: null })
    }))

    it('parks a run, from its start or once running, and ends it later', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      const timer = { timer: new Date(T0 + 60_000).toISOString() }
      const signal = { signal: 'approve', timeout_at: new Date(T0 + 90_000).toISOString() }
      await write(store, step('e1', 'n1', {
        at: T0 + 1,
        seq: 2,
        runs: [{ kind: 'park', seq: 1, waitingForJson: JSON.stringify(timer) }, startRun(2, 'ask', T0 + 1, { taskType: 'wait_for_signal', waitingForJson: JSON.stringify(signal) })],
        leaseExpiresAt: null,
        wakeAt: T0 + 60_000,
      }))
      let runs = (await store.getExecution('e1'))?.runs
      expect(runs?.map((r) => [r.seq, r.status, r.waitingFor, r.finishedAt])).toEqual([
        [1, 'waiting', timer, null],
        [2, 'waiting', signal, null],
      ])
      expect((await store.getExecution('e1'))?.execution).toMatchObject({ leaseOwner: null, wakeAt: T0 + 60_000 })
      await write(store, step('e1', 'n2', { at: T0 + 60_000, seq: 2, takeover: true, runs: [{ kind: 'end', seq: 1, ...runEnd(T0 + 60_000, { dataJson: undefined }) }] }))
      runs = (await store.getExecution('e1'))?.runs
      expect(runs?.[0]).toMatchObject({ status: 'success', waitingFor: null, data: null, finishedAt: T0 + 60_000 })
      expect(runs?.[1]).toMatchObject({ status: 'waiting', waitingFor: signal })
    }))

    it('interrupts a running or a parked run: ended, with no data, waiting for nothing', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      const child = { child: 'e1-child' }
      await write(store, step('e1', 'n1', { at: T0 + 1, seq: 2, runs: [startRun(2, 'sub', T0 + 1, { taskType: 'subflow', waitingForJson: JSON.stringify(child) })] }))
      await write(store, step('e1', 'n1', { at: T0 + 9, seq: 3, runs: [{ kind: 'interrupt', seq: 1, at: T0 + 9 }, { kind: 'interrupt', seq: 2, at: T0 + 9 }, startRun(3, 't1', T0 + 9, { attempt: 2 })] }))
      const runs = (await store.getExecution('e1'))?.runs
      expect(statusOf(runs)).toEqual([[1, 'interrupted'], [2, 'interrupted'], [3, 'running']])
      expect(runs?.slice(0, 2).map((r) => [r.finishedAt, r.waitingFor, r.data])).toEqual([[T0 + 9, null, null], [T0 + 9, null, null]])
    }))

    it('keeps the group, branch and item a run belongs to', withStore(async (store) => {
      await write(store, create('e1', { owner: 'n1' }))
      await write(store, step('e1', 'n1', {
        at: T0 + 2,
        seq: 5,
        runs: [
          startRun(2, 'fan', T0 + 2, { taskType: 'parallel' }),
          startRun(3, 'left', T0 + 2, { parentSeq: 2, branch: 'left' }),
          startRun(4, 'each', T0 + 2, { parentSeq: 2, branch: 'right', itemsJson: '[1,2]' }),
          startRun(5, 'each', T0 + 2, { parentSeq: 4, branch: 'right', itemIndex: 1 }),
        ],
      }))
      const runs = (await store.getExecution('e1'))?.runs
      expect(runs?.slice(1).map((r) => [r.seq, r.taskName, r.parentSeq, r.branch, r.itemIndex])).toEqual([
        [2, 'fan', null, null, null],
        [3, 'left', 2, 'left', null],
        [4, 'each', 2, 'right', null],
        [5, 'each', 4, 'right', 1],
      ])
    }))
  })
}
