import type { ExecutionStatus, Thread } from '../../src/core/execution-state.js'
import type { Flow } from '../../src/core/flow-schema.js'
import type { EventType, EventWrite, ExecutionStateWrite, NewExecution, RunEnd, RunWrite, StepWrite, Store } from '../../src/store/store.js'

/** Step writes built by hand, as the engine would build them, for the store contract. */

export const T0 = Date.UTC(2026, 0, 1)
export const LEASE_MS = 10_000

/** Writes a step and waits for it, whether the store answers with a promise or applies at once. */
export async function write(store: Store, step: StepWrite): Promise<void> {
  await store.write(step)
}

export const events = (from: number, types: readonly EventType[], at: number, taskName: string | null = null): EventWrite[] =>
  types.map((type, i) => ({ seq: from + i, type, at, taskName, data: { n: from + i } }))

export interface StateOptions {
  readonly status?: ExecutionStatus
  readonly steps?: number
  readonly seq: number
  readonly eventSeq?: number
  readonly at: number
  readonly currentTask?: string | null
  readonly threads?: readonly Thread[]
  readonly deadline?: number | null
  readonly storedBytes?: number
  readonly inputJson?: string
  readonly startedAt?: number | null
}

/** The execution row's state as a step writes it. */
export function state(o: StateOptions): ExecutionStateWrite {
  const status = o.status ?? 'running'
  const ended = status === 'completed' || status === 'failed' || status === 'cancelled'
  return {
    status,
    currentTask: o.currentTask ?? null,
    steps: o.steps ?? o.seq,
    stepBase: 0,
    seq: o.seq,
    failedTask: status === 'failed' ? `t${o.seq}` : null,
    error: status === 'failed' ? { code: 'TASK_FAILED', message: `task "t${o.seq}" failed` } : null,
    deadline: o.deadline ?? null,
    threads: o.threads ?? [],
    nextThread: o.threads?.length ?? 0,
    startedAt: o.startedAt !== undefined ? o.startedAt : status === 'pending' ? null : T0,
    finishedAt: ended ? o.at : null,
    updatedAt: o.at,
    eventSeq: o.eventSeq ?? 0,
    storedBytes: o.storedBytes ?? 0,
    ...(o.inputJson === undefined ? {} : { inputJson: o.inputJson }),
  }
}

/** A thread of the root line of control at `task`, for round trips through the store. */
export function thread(task: string, seq: number, phase: Thread['phase'] = 'run'): Thread {
  return { id: 0, parent: null, branch: null, item: null, task, step: seq, attempt: 1, seq, phase, wakeAt: null, waiting: null, crashes: 0, join: null }
}

export function newExecution(id: string, o: { createdAt?: number; flowId?: string; idempotencyKey?: string | null; input?: unknown; parent?: NewExecution['parent'] } = {}): NewExecution {
  return {
    id,
    flowId: o.flowId ?? 'flow-a',
    flowVersion: 1,
    definitionHash: 'hash-a',
    inputJson: JSON.stringify(o.input ?? { id }),
    idempotencyKey: o.idempotencyKey ?? null,
    createdAt: o.createdAt ?? T0,
    ...(o.parent === undefined ? {} : { parent: o.parent, depth: 1 }),
  }
}

export interface CreateOptions {
  /** Who runs it at once; null queues it for any node to claim. */
  readonly owner: string | null
  readonly createdAt?: number
  readonly flowId?: string
  readonly idempotencyKey?: string | null
  readonly input?: unknown
}

/** Records a new execution: running its first task under `owner`'s lease, or queued (due at its creation). */
export function create(id: string, options: CreateOptions): StepWrite {
  const at = options.createdAt ?? T0
  const base = newExecution(id, { ...options, createdAt: at })
  if (options.owner === null) {
    return { executionId: id, owner: 'producer', leaseExpiresAt: null, wakeAt: at, create: base, state: state({ status: 'pending', seq: 0, eventSeq: 1, at }), runs: [], events: events(1, ['execution_queued'], at) }
  }
  return {
    executionId: id,
    owner: options.owner,
    leaseExpiresAt: at + LEASE_MS,
    wakeAt: null,
    create: base,
    state: state({ seq: 1, eventSeq: 2, at, currentTask: 't1', threads: [thread('t1', 1)], startedAt: at }),
    runs: [startRun(1, 't1', at)],
    events: [...events(1, ['execution_started'], at), ...events(2, ['task_started'], at, 't1')],
  }
}

export function startRun(seq: number, taskName: string, at: number, extra: Partial<Extract<RunWrite, { kind: 'start' }>> = {}): Extract<RunWrite, { kind: 'start' }> {
  return { kind: 'start', seq, taskName, taskType: 'noop', attempt: 1, startedAt: at, parentSeq: null, branch: null, itemIndex: null, ...extra }
}

export function runEnd(at: number, extra: Partial<RunEnd> = {}): RunEnd {
  return { status: 'success', dataJson: JSON.stringify({ at }), error: null, finishedAt: at, durationMs: 1.5, nextTask: null, retryAt: null, ...extra }
}

/** Finishes task run `seq` and starts the next one (or ends the execution), under `owner`'s lease. */
export function next(id: string, owner: string, seq: number, options: { at?: number; end?: 'completed' | 'failed'; takeover?: boolean } = {}): StepWrite {
  const at = options.at ?? T0 + seq
  const eventSeq = seq * 2
  const end: RunWrite = { kind: 'end', seq, ...runEnd(at, { dataJson: JSON.stringify({ seq }), nextTask: options.end === undefined ? `t${seq + 1}` : null }) }
  const takeover = options.takeover === undefined ? {} : { takeover: options.takeover }
  if (options.end !== undefined) {
    return {
      executionId: id,
      owner,
      ...takeover,
      leaseExpiresAt: null,
      wakeAt: null,
      state: state({ status: options.end, seq, eventSeq: eventSeq + 2, at }),
      runs: [end],
      events: [...events(eventSeq + 1, ['task_finished'], at, `t${seq}`), ...events(eventSeq + 2, ['execution_finished'], at)],
    }
  }
  return {
    executionId: id,
    owner,
    ...takeover,
    leaseExpiresAt: at + LEASE_MS,
    wakeAt: null,
    state: state({ seq: seq + 1, eventSeq: eventSeq + 2, at, currentTask: `t${seq + 1}`, threads: [thread(`t${seq + 1}`, seq + 1)] }),
    runs: [end, startRun(seq + 1, `t${seq + 1}`, at)],
    events: [...events(eventSeq + 1, ['task_finished'], at, `t${seq}`), ...events(eventSeq + 2, ['task_started'], at, `t${seq + 1}`)],
  }
}

export interface StepOptions extends Partial<Omit<StepWrite, 'executionId' | 'owner' | 'state'>> {
  readonly at: number
  readonly seq: number
  readonly status?: ExecutionStatus
  readonly inputJson?: string
  readonly threads?: readonly Thread[]
}

/**
 * Any step under `owner`'s lease: it keeps the lease unless told otherwise (`leaseExpiresAt: null`
 * parks or releases it), and writes no events unless given.
 */
export function step(id: string, owner: string, o: StepOptions): StepWrite {
  const { at, seq, status, inputJson, threads, ...rest } = o
  return {
    executionId: id,
    owner,
    leaseExpiresAt: at + LEASE_MS,
    wakeAt: null,
    runs: [],
    events: [],
    ...rest,
    state: state({ status: status ?? 'running', seq, at, ...(inputJson === undefined ? {} : { inputJson }), ...(threads === undefined ? {} : { threads }) }),
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
