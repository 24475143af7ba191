import type { ExecutionError, ExecutionStatus } from '../core/advance.js'
import type { TaskFailure } from '../core/task-result.js'
import type { ExecutionEventRecord } from '../store/store.js'

/** What an engine reports as it works; the CLI's live view and the HTTP event stream listen to it. */
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
      readonly at: number
    }
  | {
      readonly type: 'task_finished'
      readonly executionId: string
      readonly task: string
      readonly taskType: string
      readonly seq: number
      readonly status: 'success' | 'failure'
      readonly error: TaskFailure | null
      readonly durationMs: number
      readonly nextTask: string | null
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
