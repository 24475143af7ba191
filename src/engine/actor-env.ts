import type { Command } from '../core/commands.js'
import type { TaskFailure, TaskResult } from '../core/task-result.js'
import type { ExecutionRecord, NewExecution, Store } from '../store/store.js'
import type { Logger } from '../tasks/define-task.js'
import type { EngineNotice } from './engine-events.js'
import type { ExecutionError, ExecutionState } from '../core/execution-state.js'
import type { ExecutionDetail } from '../store/store.js'
import type { OpenRunInfo } from './step-writer.js'
import type { RunOutcome } from './scheduler.js'
import type { Scheduler } from './scheduler.js'
import type { Clock, Timers } from './timers.js'

/** What an execution is, besides its state: fixed from its creation. */
export interface ExecutionIdentity {
  readonly id: string
  readonly flowId: string
  readonly flowVersion: number | null
  readonly definitionHash: string
  readonly createdAt: number
  readonly idempotencyKey: string | null
  readonly parent: ExecutionRecord['parent']
  readonly depth: number
}

/** Something for the actor to decide on, in the order it arrived. */
export type Mail =
  | { readonly kind: 'start' }
  /** Taken up from the store; `handedBack` when a live owner gave it back, so that nothing crashed. */
  | { readonly kind: 'recover'; readonly handedBack: boolean }
  | { readonly kind: 'resume'; readonly input: unknown; readonly replaced: boolean }
  | { readonly kind: 'result'; readonly run: RunOutcome }
  | { readonly kind: 'deliver'; readonly seq: number; readonly result: TaskResult; readonly consumes?: number }
  | { readonly kind: 'timer' }
  | { readonly kind: 'cancel'; readonly reason: string }
  | { readonly kind: 'fail'; readonly error: ExecutionError }
  | { readonly kind: 'suspend' }
  /** The heartbeat found the lease held by another node (or the execution ended or parked meanwhile). */
  | { readonly kind: 'lost' }

/** How an actor stopped: its execution ended, it was parked (lease handed back), or it lost it. */
export type ActorEnd =
  | { readonly kind: 'finished'; readonly detail: ExecutionDetail; readonly small: boolean }
  /** Parked: nothing runs; due again at `wakeAt` (null: when something wakes it). */
  | { readonly kind: 'released'; readonly wakeAt: number | null }
  | { readonly kind: 'lost' }
  | { readonly kind: 'broken'; readonly error: unknown }

/** What others see of an execution actor. */
export interface ActorView {
  readonly id: string
  readonly identity: ExecutionIdentity
  readonly state: ExecutionState
  /** What the actor knows of an open run. */
  runInfo(seq: number): OpenRunInfo | undefined
}

/** Everything an execution actor needs from its node: injected, so that it owns nothing shared. */
export interface ActorEnv {
  readonly store: Store
  readonly scheduler: Scheduler
  readonly clock: Clock
  readonly timers: Timers
  readonly logger: Logger
  readonly nodeId: string
  readonly leaseMs: number
  readonly maxRecoveries: number
  readonly storageLimit: number
  readonly emit: (notice: EngineNotice) => void
  readonly listening: () => boolean
  /** A sub-flow's child execution to create, or why it cannot be. */
  readonly prepareChild: (parent: ExecutionIdentity, command: Extract<Command, { type: 'start_child' }>) => Promise<NewExecution | TaskFailure>
  /** What an ended child execution means for the task run that waited for it. */
  readonly childResult: (child: ExecutionRecord) => Promise<TaskResult>
  /** Gives the execution's lease back now (or as soon as the store answers), so that it goes on without waiting for the lease to expire. */
  readonly handBack: (id: string) => void
  /** Work may be due now (children queued, a parked execution woken): look for it at once. */
  readonly lookForWork: () => void
  /** Children whose cancellation a step recorded: those running here stop now, not at the next heartbeat. */
  readonly childrenCancelled: (ids: readonly string[]) => void
  /** The actor stopped: free its slot, answer whoever waits for its end. */
  readonly stopped: (actor: ActorView, end: ActorEnd) => void
}
