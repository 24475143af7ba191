import type { ExecutionError, ExecutionStatus, Thread } from '../core/execution-state.js'
import type { Flow } from '../core/flow-schema.js'
import type { TaskFailure } from '../core/task-result.js'

export const TASK_RUN_STATUSES = ['running', 'waiting', 'success', 'failure', 'interrupted'] as const
export type TaskRunStatus = (typeof TASK_RUN_STATUSES)[number]

/** `wake_at` of an execution that waits only for something to happen (a signal, a child): no timer. */
export const NEVER = 8_640_000_000_000_000

/** An execution as stored. Times are milliseconds since the epoch. */
export interface ExecutionRecord {
  readonly id: string
  readonly flowId: string
  /** The registered version it runs, or null for an inline flow. */
  readonly flowVersion: number | null
  /** Content hash of the exact definition it runs; definitions are stored once per hash. */
  readonly definitionHash: string
  readonly status: ExecutionStatus
  readonly input: unknown
  readonly currentTask: string | null
  readonly steps: number
  readonly stepBase: number
  /** The sequence number of its latest task run. */
  readonly seq: number
  readonly failedTask: string | null
  readonly error: ExecutionError | null
  readonly deadline: number | null
  /** Where each line of control stands (see core/execution-state.ts). */
  readonly threads: readonly Thread[]
  readonly nextThread: number
  readonly idempotencyKey: string | null
  readonly createdAt: number
  readonly startedAt: number | null
  readonly finishedAt: number | null
  /** The node holding the execution's lease, or null when nobody does (queued, parked, finished, released). */
  readonly leaseOwner: string | null
  /** When a node should take it up (a retry, a timer); null: now; NEVER: when something wakes it. */
  readonly wakeAt: number | null
  /** Someone asked to cancel it while another node held it. */
  readonly cancelRequested: boolean
  /** Sequence number of the latest event in its log. */
  readonly eventSeq: number
  /** Bytes it has stored so far (input, results, events). */
  readonly storedBytes: number
  /** Bumped when a signal arrives or a child ends, so that its holder looks. */
  readonly poke: number
  /** For a sub-flow's execution: the parent execution, and the parent's task run that waits for it. */
  readonly parent: { readonly executionId: string; readonly seq: number; readonly task: string } | null
  /** How many parents it has (0 for a top-level execution). */
  readonly depth: number
}

export interface TaskRunRecord {
  readonly executionId: string
  /** 1-based position in the execution. */
  readonly seq: number
  readonly taskName: string
  readonly taskType: string
  readonly attempt: number
  readonly status: TaskRunStatus
  readonly data: unknown
  /** True when `data` was left out of a bounded read (read the run alone to have it). */
  readonly dataOmitted?: boolean
  readonly error: TaskFailure | null
  readonly startedAt: number
  readonly finishedAt: number | null
  readonly durationMs: number | null
  /** Where the condition routed after this run: a task, `end`, or null (no condition / not finished). */
  readonly nextTask: string | null
  /** The group's or for_each's run this run belongs to. */
  readonly parentSeq: number | null
  /** The first task of the branch it runs in. */
  readonly branch: string | null
  /** Its item's index, for an item run of a for_each task. */
  readonly itemIndex: number | null
  /** What a parked run waits for: `{timer}`, `{signal, timeout_at}`, `{child}` (ISO times). */
  readonly waitingFor: WaitingForView | null
  /** When a failed attempt will be tried again. */
  readonly retryAt: number | null
}

export type WaitingForView = { readonly timer: string } | { readonly signal: string; readonly timeout_at?: string } | { readonly child: string }

/** What the event log of an execution records, in order. */
export const EVENT_TYPES = [
  'execution_queued',
  'execution_started',
  'task_started',
  'task_waiting',
  'task_finished',
  'routed',
  'task_interrupted',
  'execution_resumed',
  'cancel_requested',
  'signal_received',
  'execution_finished',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

export interface ExecutionEventRecord {
  readonly executionId: string
  /** 1-based and gapless within an execution. */
  readonly seq: number
  readonly type: EventType
  readonly at: number
  readonly taskName: string | null
  readonly data: unknown
}

export interface EventWrite {
  readonly seq: number
  readonly type: EventType
  readonly at: number
  readonly taskName: string | null
  /** The event's data; stores serialize it when they record it, so that nothing is serialized unrecorded. */
  readonly data: object | null
}

export interface ExecutionDetail {
  readonly execution: ExecutionRecord
  readonly runs: readonly TaskRunRecord[]
  /** All task runs of the execution; more than `runs` when a bounded read left older ones out. */
  readonly totalRuns?: number
}

/** The execution row's mutable part, written with every step. */
export interface ExecutionStateWrite {
  readonly status: ExecutionStatus
  readonly currentTask: string | null
  readonly steps: number
  readonly stepBase: number
  readonly seq: number
  readonly failedTask: string | null
  readonly error: ExecutionError | null
  readonly deadline: number | null
  readonly threads: readonly Thread[]
  readonly nextThread: number
  readonly startedAt: number | null
  readonly finishedAt: number | null
  readonly updatedAt: number
  /** Sequence number of the latest event this step writes (or of the latest before it). */
  readonly eventSeq: number
  readonly storedBytes: number
  /** A new execution input (a resume with input): JSON text. */
  readonly inputJson?: string | undefined
}

export interface NewExecution {
  readonly id: string
  readonly flowId: string
  readonly flowVersion: number | null
  readonly definitionHash: string
  /** JSON text of the execution input. */
  readonly inputJson: string
  readonly idempotencyKey: string | null
  readonly createdAt: number
  readonly parent?: { readonly executionId: string; readonly seq: number; readonly task: string }
  readonly depth?: number
}

/** The end of a task run. */
export interface RunEnd {
  readonly status: 'success' | 'failure'
  /** JSON text of the result data, or undefined for none. */
  readonly dataJson: string | undefined
  readonly error: TaskFailure | null
  readonly finishedAt: number
  readonly durationMs: number
  readonly nextTask: string | null
  readonly retryAt: number | null
}

/** What a step does to one task run. A run started and ended in the same step is one `start` with its `end`. */
export type RunWrite =
  | {
      readonly kind: 'start'
      readonly seq: number
      readonly taskName: string
      readonly taskType: string
      readonly attempt: number
      readonly startedAt: number
      readonly parentSeq: number | null
      readonly branch: string | null
      readonly itemIndex: number | null
      /** For a for_each task's own run: its list, as JSON text. */
      readonly itemsJson?: string | undefined
      /** Parked from the start: what it waits for, as JSON text of a WaitingForView. */
      readonly waitingForJson?: string | undefined
      readonly end?: RunEnd | undefined
    }
  | ({ readonly kind: 'end'; readonly seq: number } & RunEnd)
  | { readonly kind: 'park'; readonly seq: number; readonly waitingForJson: string }
  | { readonly kind: 'interrupt'; readonly seq: number; readonly at: number }

/**
 * Everything one step changes, written atomically: the runs that ended, the execution's new state,
 * the runs that began, the events. Recording a result and deciding what follows can therefore
 * never drift apart.
 */
export interface StepWrite {
  readonly executionId: string
  /**
   * The node writing the step. It applies only while that node holds the execution's lease (or,
   * with `takeover`, while nobody does); otherwise the write fails with LeaseLostError and changes
   * nothing, so a node whose lease was taken over cannot record anything more.
   */
  readonly owner: string
  /** Take an execution nobody holds (e.g. resuming a failed one) instead of renewing our lease. */
  readonly takeover?: boolean
  /** The lease's new expiry (each step renews it), or null to leave the execution unowned (finished, queued, parked). */
  readonly leaseExpiresAt: number | null
  /** When an unowned execution is due (a retry, a timer): null now, NEVER until something wakes it. */
  readonly wakeAt: number | null
  readonly create?: NewExecution | undefined
  readonly state: ExecutionStateWrite
  readonly runs: readonly RunWrite[]
  readonly events: readonly EventWrite[]
  /** Sub-flow executions this step starts: created queued, for any node to claim. */
  readonly children?: readonly NewExecution[] | undefined
  /** Sub-flow executions (their ids) to cancel along with this one. */
  readonly cancelChildren?: readonly string[] | undefined
  /** Signals this step consumes, each by the task run it becomes the data of. */
  readonly consumeSignals?: readonly { readonly signalSeq: number; readonly runSeq: number }[] | undefined
  /** This step ends a sub-flow's execution: its parent is woken up to take the result. */
  readonly wakeParent?: string | undefined
  /**
   * The poke counter as the writer last looked at what its parked runs wait for (signals,
   * children, a cancellation). A step that leaves the execution unowned while the counter has
   * moved past this leaves it due at once instead, so that a wake-up that came while the writer
   * held the execution (and so moved no wake time) is not lost.
   */
  readonly pokeSeen?: number | undefined
}

/**
 * The wake time a step stores. An unfinished execution that the step leaves unowned with no wake
 * time is due at once, so it is stored as due at the step's time: claims then find every
 * unowned execution by `wake_at <= now` alone.
 */
export function storedWakeAt(step: StepWrite): number | null {
  if (step.wakeAt !== null || step.leaseExpiresAt !== null) return step.wakeAt
  const { status } = step.state
  return status === 'pending' || status === 'running' ? step.state.updatedAt : null
}

/** The wake time a step stores when the poke counter moved past its `pokeSeen`: due at once if it leaves the execution unowned. */
export function wokenWakeAt(step: StepWrite): number | null {
  const wake = storedWakeAt(step)
  return wake === null || step.leaseExpiresAt !== null ? wake : Math.min(wake, step.state.updatedAt)
}

/** A step was refused because another node now holds the execution's lease. */
export class LeaseLostError extends Error {
  constructor(readonly executionId: string) {
    super(`execution "${executionId}" is now held by another node`)
    this.name = 'LeaseLostError'
  }
}

export interface ClaimRequest {
  readonly owner: string
  readonly limit: number
  readonly now: number
  readonly leaseMs: number
  /** Owners known to be dead (a liveness row that stopped beating, a crashed local process): their work is taken at once. */
  readonly deadOwners: readonly string[]
  /** Claim only these executions. */
  readonly onlyIds?: readonly string[]
  /**
   * false: take only unowned, due executions, not those whose owner stopped (expired leases, dead
   * owners). Saves a query when the claim answers a notification of new work. Default true.
   */
  readonly recover?: boolean
}

/** An execution a claim took, and how it was free. */
export interface ClaimedExecution extends ExecutionRecord {
  /**
   * True when it was taken from an owner that stopped without giving it back (its lease expired, or
   * the owner is dead): whatever ran there was cut off. False when nobody held it (queued, due, or
   * handed back by a live owner).
   */
  readonly takenOver: boolean
}

export interface HeartbeatResult {
  /** Executions this owner holds whose cancellation another node asked for. */
  readonly cancelRequested: readonly string[]
  /** Executions this owner holds, with their poke counter (a signal arrived, a child ended). */
  readonly pokes: readonly { readonly id: string; readonly poke: number }[]
}

/** A node's liveness row. */
export interface NodeRecord {
  readonly id: string
  readonly host: string
  readonly pid: number
  /** Identifies the machine's boot and process namespace, so that a local pid check means something. */
  readonly machine: string
  readonly startedAt: number
  readonly beatAt: number
}

export interface FlowRecord {
  readonly id: string
  readonly version: number
  readonly definitionHash: string
  readonly flow: Flow
  readonly createdAt: number
}

/** What registering answers: the version, and whether this registration made it. */
export interface RegisteredFlow extends FlowRecord {
  /** false when the definition equals the latest version's: that version is answered, and none is added. */
  readonly created: boolean
}

export interface ExecutionFilter {
  readonly status?: ExecutionStatus
  readonly flowId?: string
  readonly parentExecutionId?: string
  /** Ids starting with this text (case-sensitive). */
  readonly idPrefix?: string
  /** Created at or after this time (epoch ms). */
  readonly createdAfter?: number
  /** Created before this time (epoch ms). */
  readonly createdBefore?: number
  /** Only these ids (at most 500). */
  readonly ids?: readonly string[]
  /**
   * Executions whose status may have changed at or after this time (epoch ms): unfinished ones
   * updated since, and those finished since. The list stream's poll: it reads an index, not the table.
   */
  readonly changedSince?: number
  /** 1 to 500. */
  readonly limit: number
  /** The `next_cursor` of the previous page. */
  readonly cursor?: string
}

export interface Page<T> {
  readonly items: readonly T[]
  readonly nextCursor: string | null
}

/** What a node needs to take an execution up where it stopped, without reading all of its history. */
export interface RecoverySnapshot {
  readonly execution: ExecutionRecord
  /** The latest ended run of each task (item runs aside): what expressions see as `results`. */
  readonly latest: readonly TaskRunRecord[]
  /** Runs still running or waiting. */
  readonly open: readonly TaskRunRecord[]
  /** For each open for_each task's run: its items and its ended item runs. */
  readonly fanouts: readonly { readonly seq: number; readonly items: readonly unknown[]; readonly ended: readonly TaskRunRecord[] }[]
}

export interface SignalRecord {
  readonly seq: number
  readonly name: string
  readonly payload: unknown
  readonly createdAt: number
}

export interface ReadLimits {
  /** Most runs returned, the latest ones. */
  readonly maxRuns: number
  /** Most bytes of run data returned; older runs beyond it come without their data. */
  readonly maxDataBytes: number
}

/** The storage port. Adapters: SQLite (embedded), PostgreSQL (shared), memory (tests, throwaway). */
export interface Store {
  readonly kind: 'sqlite' | 'postgres' | 'memory'
  /**
   * Applies one step atomically. It resolves once the write is committed (durable), or returns
   * nothing when the store keeps nothing durable and the write has already been applied.
   */
  write(step: StepWrite): Promise<void> | undefined
  /** Stores a flow definition under its content hash (no-op when present). */
  putDefinition(hash: string, flow: Flow): Promise<void>
  getDefinition(hash: string): Promise<Flow | undefined>
  /** Registers a flow: the next version for its id. */
  /** The next version of flow.id, or the latest one when its definition hash is `hash` already. */
  registerFlow(hash: string, flow: Flow, at: number): Promise<RegisteredFlow>
  getFlow(id: string, version?: number): Promise<FlowRecord | undefined>
  listFlows(limit: number, cursor?: string): Promise<Page<FlowRecord>>
  /** An execution with its runs: all of them, or the latest within `limits`. One consistent snapshot. */
  getExecution(id: string, limits?: ReadLimits): Promise<ExecutionDetail | undefined>
  getExecutionRecord(id: string): Promise<ExecutionRecord | undefined>
  /** Task runs after `afterSeq`, in order, at most `limit` and (beyond the first) `maxBytes` of data. */
  listTaskRuns(executionId: string, afterSeq: number, limit: number, maxBytes: number): Promise<readonly TaskRunRecord[]>
  getTaskRun(executionId: string, seq: number): Promise<TaskRunRecord | undefined>
  loadForRecovery(id: string): Promise<RecoverySnapshot | undefined>
  findExecutionByIdempotencyKey(key: string): Promise<ExecutionRecord | undefined>
  listExecutions(filter: ExecutionFilter): Promise<Page<ExecutionRecord>>
  /**
   * Takes the lease of up to `limit` unfinished executions that nobody holds: queued ones, parked
   * ones whose time has come, those whose lease expired, and those of dead owners. Oldest first;
   * atomic per execution, so two nodes never claim the same one.
   */
  claim(request: ClaimRequest): Promise<readonly ClaimedExecution[]>
  /** The earliest `wake_at` of unowned unfinished executions, for the worker to sleep until. */
  nextWake(): Promise<number | null>
  /** Renews the leases of `ids` (the executions this owner runs); answers cancellations and pokes among them. */
  heartbeat(owner: string, ids: readonly string[], now: number, leaseMs: number): Promise<HeartbeatResult>
  /** Gives up `owner`'s leases so that another node (or the next start) takes the work at once. */
  release(owner: string, ids?: readonly string[]): Promise<void>
  /** Records that this node is alive. */
  beat(node: NodeRecord): Promise<void>
  listNodes(): Promise<readonly NodeRecord[]>
  removeNode(id: string): Promise<void>
  /** Distinct owners holding leases on unfinished executions. */
  listLeaseOwners(): Promise<readonly string[]>
  /** Flags an unfinished execution for cancellation by whichever node holds it (and wakes it if parked). */
  requestCancel(executionId: string, now: number): Promise<void>
  /** Wakes an unowned execution at once and bumps its poke counter (a signal, a child's end). */
  poke(executionId: string, now: number): Promise<void>
  /** Keeps a signal for an execution: 'added', or why not. */
  addSignal(executionId: string, name: string, payloadJson: string, at: number): Promise<'added' | 'not_found' | 'finished'>
  /** Signals not consumed yet, oldest first. */
  pendingSignals(executionId: string, limit: number): Promise<readonly SignalRecord[]>
  /** The sub-flow executions started by a parent's task runs. */
  listChildren(parentExecutionId: string, parentSeqs: readonly number[]): Promise<readonly ExecutionRecord[]>
  /** The latest ended run of each task of an execution (item runs aside). */
  latestResults(executionId: string): Promise<readonly TaskRunRecord[]>
  /** The execution's event log after `afterSeq`, in order. */
  listEvents(executionId: string, afterSeq: number, limit: number): Promise<readonly ExecutionEventRecord[]>
  /** Executions waiting for a worker. */
  countQueued(): Promise<number>
  /** The status of each of these executions (at most 500) that exists: what waiting for their end polls. */
  statuses(ids: readonly string[]): Promise<ReadonlyMap<string, ExecutionStatus>>
  /**
   * Calls `listener` when another node may have queued work, asked for a cancellation, or sent a
   * signal, so that idle workers wake at once rather than at their next poll. Optional: polling is the fallback.
   */
  subscribeWork?(listener: () => void): () => void
  /** True while writes fail (the latest commit failed, within the last seconds: a full disk, a lost database): readiness says so. */
  writesFailing?(): boolean
  /** Answers when the database is reachable. */
  ping(): Promise<void>
  close(): Promise<void>
}
