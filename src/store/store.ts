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
  readonly create?: NewExecution
  readonly state: ExecutionStateWrite
  readonly finishRun?: TaskRunFinish | undefined
  readonly startRun?: TaskRunStart | undefined
}

export interface FlowRecord {
  readonly id: string
  readonly version: number
  readonly definitionHash: string
  readonly flow: Flow
  readonly createdAt: number
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
  registerFlow(hash: string, flow: Flow, at: number): Promise<FlowRecord>
  getFlow(id: string, version?: number): Promise<FlowRecord | undefined>
  listFlows(limit: number, cursor?: string): Promise<Page<FlowRecord>>
  getExecution(id: string): Promise<ExecutionDetail | undefined>
  findExecutionByIdempotencyKey(key: string): Promise<ExecutionRecord | undefined>
  listExecutions(filter: ExecutionFilter): Promise<Page<ExecutionRecord>>
  /** Executions left running or pending, e.g. by a process that crashed. */
  listUnfinished(limit: number): Promise<readonly ExecutionRecord[]>
  /** Answers when the database is reachable. */
  ping(): Promise<void>
  close(): Promise<void>
}
