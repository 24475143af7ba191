import { describe, expect, it } from 'vitest'
import { GroupCommit, type GroupCommitOptions, type StepOutcome } from '../../src/store/sql/group-commit.js'
import type { StepWrite } from '../../src/store/store.js'
import { newExecution, step, T0 } from '../contract/steps.js'

const at = T0
/** A step of execution `id`, labelled so that a batch reads as a list of labels. */
const stepOf = (id: string, label: string, more: Partial<StepWrite> = {}): StepWrite => ({ ...step(id, 'n1', { at, seq: 1 }), ...more, events: [{ seq: 1, type: 'routed', at, taskName: label, data: null }] })
const label = (s: StepWrite): string => s.events[0]?.taskName ?? '?'

/** A group commit whose commits are recorded, and fail where told to. */
function recorder(options: Partial<GroupCommitOptions> & { refuse?: (s: StepWrite) => boolean; down?: () => boolean } = {}) {
  const batches: string[][] = []
  const results: boolean[] = []
  let inFlight = 0
  let mostInFlight = 0
  const commits = new GroupCommit({
    maxBatch: 100,
    maxInFlight: 1,
    retryOneByOne: (error) => (error as Error).message === 'refused',
    onResult: (ok) => results.push(ok),
    ...options,
    async commit(steps): Promise<StepOutcome[]> {
      inFlight++
      mostInFlight = Math.max(mostInFlight, inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
      batches.push(steps.map(label))
      if (options.down?.() === true) throw new Error('connection lost')
      if (steps.some((s) => options.refuse?.(s) === true)) throw new Error('refused')
      return steps.map(() => true)
    },
  })
  return { commits, batches, results, mostInFlight: () => mostInFlight }
}

describe('group commit', () => {
  it('commits the steps of many executions written in one tick together, and answers each after the commit', async () => {
    const { commits, batches } = recorder()
    const written = Array.from({ length: 5 }, (_, i) => commits.write(stepOf(`e${i}`, `s${i}`)).then(() => batches.length))
    expect(await Promise.all(written)).toEqual([1, 1, 1, 1, 1])
    expect(batches).toEqual([['s0', 's1', 's2', 's3', 's4']])
  })

  it('puts at most maxBatch steps in one commit, and overlaps at most maxInFlight commits', async () => {
    const { commits, batches, mostInFlight } = recorder({ maxBatch: 2, maxInFlight: 2 })
    await Promise.all(Array.from({ length: 7 }, (_, i) => commits.write(stepOf(`e${i}`, `s${i}`))))
    expect(batches.map((b) => b.length).sort()).toEqual([1, 2, 2, 2])
    expect(batches.flat().sort()).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6'])
    expect(mostInFlight()).toBe(2)
  })

  it('never puts two steps touching one execution row in one commit, and keeps their order', async () => {
    const { commits, batches } = recorder()
    await Promise.all([
      commits.write(stepOf('x', 'x1')),
      // The child's end wakes its parent x: it waits for x1's commit.
      commits.write(stepOf('c', 'c-end', { wakeParent: 'x' })),
      // Steps written after c-end that touch a row it touches wait behind it.
      commits.write(stepOf('x', 'x2')),
      commits.write(stepOf('c', 'c2')),
      commits.write(stepOf('p', 'p-starts-y', { children: [newExecution('y')] })),
      commits.write(stepOf('y', 'y1')),
      commits.write(stepOf('q', 'q-cancels-z', { cancelChildren: ['z'] })),
      commits.write(stepOf('z', 'z1')),
      commits.write(stepOf('w', 'w1')),
    ])
    expect(batches).toEqual([
      ['x1', 'p-starts-y', 'q-cancels-z', 'w1'],
      ['c-end', 'y1', 'z1'],
      ['x2', 'c2'],
    ])
  })

  it('starts no batch touching a row of a batch in flight, even with room for more in flight', async () => {
    const gates = new Map<string, () => void>()
    const batches: string[][] = []
    const commits = new GroupCommit({
      maxBatch: 100,
      maxInFlight: 2,
      retryOneByOne: () => false,
      async commit(steps) {
        const labels = steps.map(label)
        batches.push(labels)
        await new Promise<void>((resolve) => gates.set(labels.join(), resolve))
        return steps.map(() => true)
      },
    })
    /** A few turns of the event loop: enough for any batch that can start to start. */
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    }
    const written = [commits.write(stepOf('x', 'x1'))]
    await settle()
    // The parent x is in flight: the child's end that wakes it waits; y's step does not.
    written.push(commits.write(stepOf('c', 'c-end', { wakeParent: 'x' })), commits.write(stepOf('y', 'y1')))
    await settle()
    expect(batches).toEqual([['x1'], ['y1']])
    gates.get('x1')?.()
    await settle()
    expect(batches).toEqual([['x1'], ['y1'], ['c-end']])
    gates.get('y1')?.()
    gates.get('c-end')?.()
    await Promise.all(written)
  })

  it('retries a refused batch step by step: only the refused step fails, and writes are not reported failing', async () => {
    const { commits, batches, results } = recorder({ refuse: (s) => label(s) === 'bad' })
    const outcomes = await Promise.allSettled([commits.write(stepOf('a', 'a')), commits.write(stepOf('b', 'bad')), commits.write(stepOf('c', 'c'))])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(batches[0]).toEqual(['a', 'bad', 'c'])
    expect(batches.slice(1).sort()).toEqual([['a'], ['bad'], ['c']])
    expect(results).toEqual([true, true])
  })

  it('fails the whole batch when the database cannot write, reports it, and reports the next commit that works', async () => {
    let down = true
    const { commits, batches, results } = recorder({ down: () => down })
    const outcomes = await Promise.allSettled([commits.write(stepOf('a', 'a')), commits.write(stepOf('b', 'b'))])
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected'])
    expect(batches).toEqual([['a', 'b']])
    expect(results).toEqual([false])
    down = false
    await commits.write(stepOf('a', 'a'))
    expect(results).toEqual([false, true])
  })

  it('commits what was written before close, and refuses what comes after', async () => {
    const { commits, batches } = recorder({ maxBatch: 1 })
    const pending = [commits.write(stepOf('a', 'a')), commits.write(stepOf('b', 'b')), commits.write(stepOf('a', 'a2'))]
    await commits.close()
    expect(batches).toEqual([['a'], ['b'], ['a2']])
    await Promise.all(pending)
    await expect(commits.write(stepOf('c', 'c'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' })
  })
})
