import type { ExecutionStatus } from '../../src/core/advance.js'
import type { Flow } from '../../src/core/flow-schema.js'
import type { EventWrite, EventType, StepWrite, Store } from '../../src/store/store.js'

/** Step writes built by hand, as the engine would build them, for the store contract. */

export const T0 = Date.UTC(2026, 0, 1)
export const LEASE_MS = 10_000

/** Writes a step and waits for it, whether the store answers with a promise or applies at once. */
export async function write(store: Store, step: StepWrite): Promise<void> {
  await store.write(step)
}

const events = (from: number, types: readonly EventType[], at: number, taskName: string | null = null): EventWrite[] =>
  types.map((type, i) => ({ seq: from + i, type, at, taskName, data: { n: from + i } }))

const state = (status: ExecutionStatus, steps: number, eventSeq: number, at: number, currentTask: string | null) => ({
  status,
  currentTask,
  steps,
  stepBase: 0,
  failedTask: null,
  error: null,
  startedAt: status === 'pending' ? null : at,
  finishedAt: status === 'completed' || status === 'failed' ? at : null,
  updatedAt: at,
  eventSeq,
})

export interface CreateOptions {
  /** Who runs it at once; null queues it for any node to claim. */
  readonly owner: string | null
  readonly createdAt?: number
  readonly flowId?: string
  readonly idempotencyKey?: string | null
  readonly input?: unknown
}

/** Records a new execution: running its first task under `owner`'s lease, or queued. */
export function create(id: string, options: CreateOptions): StepWrite {
  const at = options.createdAt ?? T0
  const base = {
    id,
    flowId: options.flowId ?? 'flow-a',
    flowVersion: 1,
    definitionHash: 'hash-a',
    inputJson: JSON.stringify(options.input ?? { id }),
    idempotencyKey: options.idempotencyKey ?? null,
    createdAt: at,
  }
  if (options.owner === null) {
    return { executionId: id, owner: 'producer', leaseExpiresAt: null, create: base, state: state('pending', 0, 1, at, null), events: events(1, ['execution_queued'], at) }
  }
  return {
    executionId: id,
    owner: options.owner,
    leaseExpiresAt: at + LEASE_MS,
    create: base,
    state: state('running', 1, 2, at, 't1'),
    startRun: { seq: 1, taskName: 't1', taskType: 'noop', attempt: 1, startedAt: at },
    events: [...events(1, ['execution_started'], at), ...events(2, ['task_started'], at, 't1')],
  }
}

/** Finishes task run `seq` and starts the next one (or ends the execution), under `owner`'s lease. */
export function next(id: string, owner: string, seq: number, options: { at?: number; end?: 'completed' | 'failed'; takeover?: boolean } = {}): StepWrite {
  const at = options.at ?? T0 + seq
  const eventSeq = seq * 2
  const finishRun = { seq, status: 'success' as const, dataJson: JSON.stringify({ seq }), error: null, finishedAt: at, durationMs: 1.5, nextTask: options.end === undefined ? `t${seq + 1}` : null }
  if (options.end !== undefined) {
    return {
      executionId: id,
      owner,
      ...(options.takeover === undefined ? {} : { takeover: options.takeover }),
      leaseExpiresAt: null,
      state: state(options.end, seq, eventSeq + 2, at, null),
      finishRun,
      events: [...events(eventSeq + 1, ['task_finished'], at, `t${seq}`), ...events(eventSeq + 2, ['execution_finished'], at)],
    }
  }
  return {
    executionId: id,
    owner,
    ...(options.takeover === undefined ? {} : { takeover: options.takeover }),
    leaseExpiresAt: at + LEASE_MS,
    state: state('running', seq + 1, eventSeq + 2, at, `t${seq + 1}`),
    finishRun,
    startRun: { seq: seq + 1, taskName: `t${seq + 1}`, taskType: 'noop', attempt: 1, startedAt: at },
    events: [...events(eventSeq + 1, ['task_finished'], at, `t${seq}`), ...events(eventSeq + 2, ['task_started'], at, `t${seq + 1}`)],
  }
}

/** A small valid flow with the given id, for the flow registry. */
export function flow(id: string, name = id): Flow {
  return { id, name, start_task: 'a', tasks: [{ name: 'a', type: 'noop' }], conditions: [] }
}

/** A deterministic pseudo-random source (mulberry32), so that a failing seed can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
