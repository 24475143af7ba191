import type { ExecutionError, ExecutionStatus } from '../core/execution-state.js'
import type { TaskFailure } from '../core/task-result.js'
import type { ExecutionEventRecord } from '../store/store.js'

/** What an engine reports as it works; the CLI's live view and the HTTP event streams listen to it. */
export type EngineEvent =
  | {
      readonly type: 'execution_started'
      readonly executionId: string
      readonly flowId: string
      /** null for an inline flow. */
      readonly flowVersion: number | null
      readonly at: number
    }
  | {
      readonly type: 'task_started'
      readonly executionId: string
      readonly task: string
      readonly taskType: string
      readonly seq: number
      readonly attempt: number
      /** For an item run of a for_each task. */
      readonly item: number | null
      /** The group's or for_each task's run this run belongs to, or null. */
      readonly parentSeq: number | null
      /** The first task of the branch it runs in, or null. */
      readonly branch: string | null
      /** For a for_each task's own run: how many items it goes over; null otherwise. */
      readonly items: number | null
      readonly at: number
    }
  | {
      readonly type: 'task_waiting'
      readonly executionId: string
      readonly task: string
      readonly seq: number
      /** `{timer}`, `{signal, timeout_at?}` or `{child}`, as in the API. */
      readonly waitingFor: object
      readonly at: number
    }
  | {
      readonly type: 'task_finished'
      readonly executionId: string
      readonly task: string
      readonly taskType: string
      readonly seq: number
      readonly attempt: number
      readonly status: 'success' | 'failure'
      readonly error: TaskFailure | null
      readonly durationMs: number
      readonly nextTask: string | null
      /** When the failed attempt will be tried again (epoch ms), or null. */
      readonly retryAt: number | null
      readonly item: boolean
      readonly at: number
    }
  | {
      readonly type: 'execution_finished'
      readonly executionId: string
      readonly flowId: string
      /** null for an inline flow. */
      readonly flowVersion: number | null
      readonly status: ExecutionStatus
      readonly error: ExecutionError | null
      readonly at: number
    }

/**
 * Emitted once a step is committed, with the events it appended to the execution's log: what an
 * event stream sends, in order, with the log's sequence numbers.
 */
export interface LoggedEvents {
  readonly type: 'logged'
  readonly executionId: string
  readonly events: readonly ExecutionEventRecord[]
}

export type EngineNotice = EngineEvent | LoggedEvents

export type EngineListener = (event: EngineNotice) => void
