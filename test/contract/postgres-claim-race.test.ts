import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import type { Store } from '../../src/store/store.js'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import { signal } from '../fixtures/engine.js'
import { createTestDatabase, pgAvailable, type TestDatabase } from '../support/postgres.js'
import { seeded } from './steps.js'

const available = await pgAvailable()

const ENGINES = 4
const EXECUTIONS = 60
const TASKS = ['a', 'b', 'c'] as const

interface Span {
  readonly engine: number
  readonly start: number
  end: number
}

describe.skipIf(!available)('engines claiming from one PostgreSQL queue', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await createTestDatabase()
  })
  afterAll(() => database?.drop())

  it('never run one step on two engines at once, and finish every execution exactly once, even when one engine stops', async () => {
    const spans = new Map<string, Span[]>()
    const random = seeded(42)
    const engineOneBusy = signal()
    let engineOneStarts = 0
    /** A task that takes a few milliseconds of real work and records when it ran, and where. */
    const recordTask = (engine: number) =>
      defineTask({
        name: 'record',
        description: 'records when and where it ran',
        async run(_input, context) {
          const key = `${context.executionId}/${context.taskName}`
          const span: Span = { engine, start: performance.now(), end: Number.POSITIVE_INFINITY }
          spans.set(key, [...(spans.get(key) ?? []), span])
          if (engine === 1 && ++engineOneStarts === 5) engineOneBusy.resolve()
          try {
            await delay(1 + Math.floor(random() * 8), undefined, { signal: context.signal })
          } catch {
            // Stopped by shutdown: the run is cut off and recovered elsewhere.
          } finally {
            span.end = performance.now()
          }
          return { engine }
        },
      })

    const stores: Store[] = []
    const open = async (): Promise<Store> => {
      const store = await openPostgresStore({ url: database.url, poolSize: 4 })
      stores.push(store)
      return store
    }
    const workers: Engine[] = []
    for (let i = 0; i < ENGINES; i++) {
      workers.push(
        createEngine({ store: await open(), tasks: createTaskRegistry([recordTask(i)]), nodeId: `engine-${i}`, leaseMs: 500, pollMs: 20, maxConcurrent: 6 }),
      )
    }
    // The producer only queues: it runs nothing itself.
    const producer = createEngine({ store: await open(), tasks: createTaskRegistry([recordTask(-1)]), nodeId: 'producer', maxConcurrent: 0, pollMs: 20 })
    try {
      await producer.registerFlow({
        id: 'race',
        name: 'Claim race',
        start_task: 'a',
        tasks: TASKS.map((name) => ({ name, type: 'record' })),
        conditions: [
          { name: 'ab', source_task: 'a', outcome: 'success', target_task_success: 'b', target_task_failure: 'end' },
          { name: 'bc', source_task: 'b', outcome: 'success', target_task_success: 'c', target_task_failure: 'end' },
        ],
      })
      for (const engine of workers) engine.startWorker()
      const started = await Promise.all(Array.from({ length: EXECUTIONS }, (_, i) => producer.start({ flowId: 'race' }, { input: { i } })))

      // Stop one engine mid-work: its cut-off runs must be recovered by the others, never run alongside.
      await engineOneBusy.promise
      const engineOne = workers[1]!
      await engineOne.close({ graceMs: 0 })

      const finished = await Promise.all(started.map((s) => s.done))
      expect(finished.map((d) => d.execution.status)).toEqual(Array.from({ length: EXECUTIONS }, () => 'completed'))

      const store = stores[0]!
      let interrupted = 0
      for (const { executionId } of started) {
        const detail = await store.getExecution(executionId)
        expect(detail?.execution).toMatchObject({ status: 'completed', leaseOwner: null })
        // Each task succeeded once; a run cut off by the stop is recorded as interrupted.
        expect(detail?.runs.filter((r) => r.status === 'success').map((r) => r.taskName)).toEqual([...TASKS])
        expect(detail?.runs.every((r) => r.status === 'success' || r.status === 'interrupted')).toBe(true)
        interrupted += detail?.runs.filter((r) => r.status === 'interrupted').length ?? 0
        const events = await store.listEvents(executionId, 0, 1000)
        expect(events.filter((e) => e.type === 'execution_finished')).toHaveLength(1)
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
      }

      // Engine 1 was stopped while its fifth task ran, so at least that run was recovered elsewhere.
      expect(interrupted).toBeGreaterThanOrEqual(1)
      expect(spans.size).toBe(EXECUTIONS * TASKS.length)
      for (const [key, list] of spans) {
        const ordered = [...list].sort((x, y) => x.start - y.start)
        for (let i = 1; i < ordered.length; i++) {
          const before = ordered[i - 1]!
          const after = ordered[i]!
          expect(after.start >= before.end, `${key} ran on engine ${before.engine} and engine ${after.engine} at once`).toBe(true)
        }
      }
      const engines = new Set([...spans.values()].flat().map((s) => s.engine))
      expect(engines.size).toBeGreaterThan(1)
    } finally {
      await Promise.all([producer, ...workers].map((engine) => engine.close({ graceMs: 0 })))
      await Promise.all(stores.map((store) => store.close()))
    }
  })
})
