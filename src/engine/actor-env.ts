import type { Command } from '../core/commands.js'
import type { TaskFailure, TaskResult } from '../core/task-result.js'
import type { ExecutionRecord, NewExecution, Store } from '../store/store.js'
import type { Logger } from '../tasks/define-task.js'
import type { EngineNotice } from './engine-events.js'
import type { ActorEnd, ExecutionActor } from './execution-actor.js'
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
  /** Work may be due now (children queued, a parked execution woken): look for it at once. */
  readonly lookForWork: () => void
  /** The actor stopped: free its slot, answer whoever waits for its end. */
  readonly stopped: (actor: ExecutionActor, end: ActorEnd) => void
}
