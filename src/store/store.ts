import type { ExecutionError, ExecutionStatus } from '../core/advance.js'
import type { Flow } from '../core/flow-schema.js'
import type { TaskFailure } from '../core/task-result.js'

export const TASK_RUN_STATUSES = ['running', 'success', 'failure', 'interrupted'] as const
export type TaskRunStatus = (typeof TASK_RUN_STATUSES)[number]

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
  readonly failedTask: string | null
  readonly error: ExecutionError | null
  readonly idempotencyKey: string | null
  readonly createdAt: number
  readonly startedAt: number | null
  readonly finishedAt: number | null
  /** The node holding the execution's lease, or null when nobody does (queued, finished, released). */
  readonly leaseOwner: string | null
  /** Someone asked to cancel it while another node held it. */
  readonly cancelRequested: boolean
  /** Sequence number of the latest event in its log. */
  readonly eventSeq: number
}

export interface TaskRunRecord {
  readonly executionId: string
  /** 1-based position in the execution; equal to the execution's step count when it started. */
  readonly seq: number
  readonly taskName: string
  readonly taskType: string
  readonly attempt: number
  readonly status: TaskRunStatus
  readonly data: unknown
  readonly error: TaskFailure | null
  readonly startedAt: number
  readonly finishedAt: number | null
  readonly durationMs: number | null
  /** Where the condition routed after this run: a task, `end`, or null (no condition / not finished). */
  readonly nextTask: string | null
}

/** What the event log of an execution records, in order. */
export const EVENT_TYPES = [
  'execution_queued',
  'execution_started',
  'task_started',
  'task_finished',
  'routed',
  'task_interrupted',
  'execution_resumed',
  'cancel_requested',
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
}

/** The execution row's mutable part, written with every step. */
export interface ExecutionStateWrite {
  readonly status: ExecutionStatus
  readonly currentTask: string | null
  readonly steps: number
  readonly stepBase: number
  readonly failedTask: string | null
  readonly error: ExecutionError | null
  readonly startedAt: number | null
  readonly finishedAt: number | null
  readonly updatedAt: number
  /** Sequence number of the latest event this step writes (or of the latest before it). */
  readonly eventSeq: number
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
}

export interface TaskRunStart {
  readonly seq: number
  readonly taskName: string
  readonly taskType: string
  readonly attempt: number
  readonly startedAt: number
}

export interface TaskRunFinish {
  readonly seq: number
  readonly status: Exclude<TaskRunStatus, 'running'>
  /** JSON text of the result data, or undefined for none. */
  readonly dataJson: string | undefined
  readonly error: TaskFailure | null
  readonly finishedAt: number
  readonly durationMs: number
  readonly nextTask: string | null
}

/**
 * Everything one step changes, written atomically: the finished task run, the execution's new
 * state and the next task run's start. Recording a result and deciding the next step can
 * therefore never drift apart.
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
  /** The lease's new expiry (each step renews it), or null to leave the execution unowned (finished or queued). */
  readonly leaseExpiresAt: number | null
  /** Not to be claimed before this time (a retry's backoff, waited durably); null when due now. */
  readonly wakeAt?: number | null
  readonly create?: NewExecution | undefined
  readonly state: ExecutionStateWrite
  /** A task run cut off by a crash or a lost lease, recorded as interrupted. */
  readonly interruptRun?: { readonly seq: number; readonly at: number } | undefined
  readonly finishRun?: TaskRunFinish | undefined
  readonly startRun?: TaskRunStart | undefined
  readonly events: readonly EventWrite[]
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
  /** Owners known to be dead (e.g. a crashed process on this host): their work is taken at once. */
  readonly deadOwners: readonly string[]
  /** Claim only these executions (e.g. the one whose retry wait this node just finished). */
  readonly onlyIds?: readonly string[]
}

export interface HeartbeatResult {
  /** Executions this owner holds whose cancellation another node asked for. */
  readonly cancelRequested: readonly string[]
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
  /** 1 to 500. */
  readonly limit: number
  /** The `next_cursor` of the previous page. */
  readonly cursor?: string
}

export interface Page<T> {
  readonly items: readonly T[]
  readonly nextCursor: string | null
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
  getExecution(id: string): Promise<ExecutionDetail | undefined>
  findExecutionByIdempotencyKey(key: string): Promise<ExecutionRecord | undefined>
  listExecutions(filter: ExecutionFilter): Promise<Page<ExecutionRecord>>
  /** Executions left running or pending, e.g. by a process that crashed. */
  listUnfinished(limit: number): Promise<readonly ExecutionRecord[]>
  /**
   * Takes the lease of up to `limit` unfinished executions that nobody holds: queued ones,
   * those whose lease expired, and those of dead owners, once their `wake_at` has come (or their
   * cancellation was requested). Oldest first; atomic per execution, so two nodes never claim the
   * same one.
   */
  claim(request: ClaimRequest): Promise<readonly ExecutionRecord[]>
  /** Renews every lease `owner` holds; answers which of them were asked to cancel. */
  heartbeat(owner: string, now: number, leaseMs: number): Promise<HeartbeatResult>
  /** Gives up `owner`'s leases so that another node (or the next start) takes the work at once. */
  release(owner: string): Promise<void>
  /** Distinct owners holding leases on unfinished executions. */
  listLeaseOwners(): Promise<readonly string[]>
  /** Flags an unfinished execution for cancellation by whichever node holds it. */
  requestCancel(executionId: string): Promise<void>
  /** The execution's event log after `afterSeq`, in order. */
  listEvents(executionId: string, afterSeq: number, limit: number): Promise<readonly ExecutionEventRecord[]>
  /** Executions waiting for a worker. */
  countQueued(): Promise<number>
  /**
   * Calls `listener` when another node may have queued work or asked for a cancellation, so that
   * idle workers wake at once rather than at their next poll. Optional: polling is the fallback.
   */
  subscribeWork?(listener: () => void): () => void
  /** Answers when the database is reachable. */
  ping(): Promise<void>
  close(): Promise<void>
}
