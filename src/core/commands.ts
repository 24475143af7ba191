import type { ExpressionScope, ResultView } from './expression.js'
import type { ExecutionError, ExecutionState, ExecutionStatus, WaitingFor } from './execution-state.js'
import type { PlanTask } from './plan.js'
import type { TaskFailure, TaskResult } from './task-result.js'

/** A for_each task waiting for its item runs: its items, and each finished item's data (by index). */
export interface FanoutView {
  readonly items: readonly unknown[]
  readonly data: readonly unknown[]
  /** Bytes of the finished items' data, as JSON. */
  readonly bytes: number
}

/**
 * What the core may read while deciding: the execution input, the latest result of each task
 * (with the run that just finished already in it), and the open for_each tasks' items.
 */
export interface StepScope extends ExpressionScope {
  readonly fanouts?: ReadonlyMap<number, FanoutView>
  /** Bytes of each task's latest data as JSON: composed results (a group's) are bounded with them. */
  readonly sizes?: ReadonlyMap<string, number>
}

/** Something that happened to an execution. `at` is the shell's clock (epoch ms): the core reads none. */
export type EngineEvent =
  | { readonly type: 'start'; readonly at: number; readonly scope: StepScope }
  | {
      readonly type: 'run_finished'
      readonly at: number
      /** The task run that ended. A run the core has already closed (cancelled, timed out) is ignored. */
      readonly seq: number
      readonly result: TaskResult
      readonly scope: StepScope
      /** A number in [0, 1) from the shell, for retry jitter; absent means the full backoff. */
      readonly random?: number
      /** The signal (its sequence number) this result consumes, for a run that waited for one. */
      readonly consumes?: number
    }
  /** Time has passed: whatever is due (a retry, a timeout, a timer, the deadline) is decided now. */
  | { readonly type: 'timer'; readonly at: number; readonly scope: StepScope }
  | { readonly type: 'cancel'; readonly at: number; readonly reason: string }
  | { readonly type: 'fail'; readonly at: number; readonly error: ExecutionError }
  /** Run a failed execution again from its failed task (the scope carries the input it goes on with). */
  | { readonly type: 'resume'; readonly at: number; readonly scope: StepScope }
  /**
   * A node took the execution over: task runs that were in flight were cut off (by a crash or a
   * lost lease) and run again as their next attempt, unless that happened `maxRecoveries` times in a row.
   * `handedBack`: its owner gave it back alive (a step it could not record), so nothing crashed and
   * nothing is counted.
   */
  | { readonly type: 'recover'; readonly at: number; readonly scope: StepScope; readonly maxRecoveries: number; readonly handedBack?: boolean }
  /** This node stops (graceful shutdown): runs in flight are interrupted and due again at once, on any node. */
  | { readonly type: 'suspend'; readonly at: number }

/** Where a finished run's data comes from. */
export type RunData =
  | { readonly from: 'none' }
  /** The data of the run_finished event's result (the shell has it serialized already). */
  | { readonly from: 'result' }
  /** A value the core composed (a group's or a for_each's), with the bytes of its JSON. */
  | { readonly from: 'value'; readonly value: unknown; readonly view: ResultView; readonly bytes: number }

export interface StartRun {
  readonly type: 'start_run'
  readonly seq: number
  readonly task: PlanTask
  readonly step: number
  readonly attempt: number
  /** The run of the group or for_each task this run belongs to, or null. */
  readonly parentSeq: number | null
  /** The first task of the branch this run belongs to (a group's branches are named by it), or null. */
  readonly branch: string | null
  /** The item's index, for an item run of a for_each task. */
  readonly item: number | null
  /** The task's input after mapping (a group's is null). */
  readonly input: unknown
  /** For a for_each task's own run: the list it goes over. */
  readonly items: readonly unknown[] | undefined
}

export interface FinishRun {
  readonly type: 'finish_run'
  readonly seq: number
  readonly task: string
  readonly status: 'success' | 'failure'
  readonly error: TaskFailure | null
  readonly data: RunData
  /** Where routing went after this run: a task, `end`, null (no condition, or not routed). */
  readonly nextTask: string | null
  /** When the failed attempt will be retried (epoch ms), or null. */
  readonly retryAt: number | null
  /** True for an item run (its data goes to its for_each task, not to `results`). */
  readonly item: boolean
}

export type Command =
  | StartRun
  | FinishRun
  | { readonly type: 'park_run'; readonly seq: number; readonly task: string; readonly waiting: WaitingFor }
  /** Stop the code of a run the core has closed (cancel, timeout): its result no longer matters. */
  | { readonly type: 'abort_run'; readonly seq: number; readonly code: string; readonly message: string }
  /** A run cut off by a crash or a shutdown, recorded as interrupted. */
  | { readonly type: 'interrupt_run'; readonly seq: number; readonly task: string; readonly attempt: number }
  | { readonly type: 'start_child'; readonly seq: number; readonly task: string; readonly flowId: string; readonly version: number | null; readonly input: unknown }
  | { readonly type: 'cancel_child'; readonly seq: number }
  | { readonly type: 'consume_signal'; readonly seq: number; readonly task: string; readonly signal: string; readonly signalSeq: number }
  /** The execution ended with this status (state.error says why when it failed). */
  | { readonly type: 'finish'; readonly status: ExecutionStatus }

export interface Decision {
  readonly state: ExecutionState
  /** Everything to do, in order: the shell records them in one step and then carries them out. */
  readonly commands: readonly Command[]
}
