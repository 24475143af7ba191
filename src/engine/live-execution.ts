import type { Decision, ExecutionState } from '../core/advance.js'
import { isTerminal } from '../core/advance.js'
import type { FlowPlan } from '../core/plan.js'
import type { EventType, EventWrite, ExecutionDetail, ExecutionRecord, StepWrite, TaskRunRecord, TaskRunStart } from '../store/store.js'
import type { TaskResultView } from '../tasks/define-task.js'

/** An execution this process is running: its state in memory, mirrored by every step write. */
export interface Live {
  readonly id: string
  readonly plan: FlowPlan
  readonly execution: ExecutionRecord
  input: unknown
  state: ExecutionState
  startedAt: number | null
  finishedAt: number | null
  nextSeq: number
  eventSeq: number
  readonly runs: TaskRunRecord[]
  readonly results: Record<string, TaskResultView>
  readonly controller: AbortController
  cancelReason: string | undefined
  /** Aborted by shutdown: the run is left for recovery, not recorded as cancelled. */
  shutdown: boolean
  /** Its first write is committed, so heartbeats can see it. */
  persisted: boolean
  done: Promise<ExecutionDetail> | undefined
}

export function newLive(plan: FlowPlan, execution: ExecutionRecord, input: unknown): Live {
  return {
    id: execution.id,
    plan,
    execution,
    input,
    state: {
      status: execution.status,
      currentTask: execution.currentTask,
      steps: execution.steps,
      stepBase: execution.stepBase,
      failedTask: execution.failedTask,
      error: execution.error,
      attempt: 1,
    },
    startedAt: execution.startedAt,
    finishedAt: null,
    nextSeq: 1,
    eventSeq: execution.eventSeq,
    runs: [],
    results: Object.create(null) as Record<string, TaskResultView>,
    controller: new AbortController(),
    cancelReason: undefined,
    shutdown: false,
    persisted: false,
    done: undefined,
  }
}

/** Loads recorded task runs into a live execution, so later tasks see earlier results. */
export function restoreRuns(l: Live, runs: readonly TaskRunRecord[]): void {
  for (const run of runs) {
    l.runs.push(run)
    if (run.status === 'success' || run.status === 'failure') {
      l.results[run.taskName] = { status: run.status, data: run.data, error: run.error?.message ?? null }
    }
  }
  const last = runs.at(-1)
  l.nextSeq = (last?.seq ?? 0) + 1
  // The attempt is not stored with the state: the current task's latest run tells it.
  if (last !== undefined && last.taskName === l.state.currentTask) l.state = { ...l.state, attempt: last.attempt }
}

/** Appends an event to the step being built; its sequence number continues the log. */
export function event(l: Live, events: EventWrite[], type: EventType, at: number, taskName: string | null, data?: object): void {
  l.eventSeq += 1
  events.push({ seq: l.eventSeq, type, at, taskName, data: data ?? null })
}

/** Records the start of the task run a decision asks for (as the command's attempt): in memory, in the step, in the log. */
export function beginRun(l: Live, decision: Decision, at: number, events: EventWrite[]): TaskRunStart | undefined {
  const command = decision.command
  if (command.type !== 'run_task') {
    if (isTerminal(l.state.status)) {
      event(l, events, 'execution_finished', at, null, { status: l.state.status, error: l.state.error, failed_task: l.state.failedTask })
    }
    return undefined
  }
  const attempt = command.attempt
  const seq = l.nextSeq++
  l.runs.push({
    executionId: l.id,
    seq,
    taskName: command.task.name,
    taskType: command.task.type,
    attempt,
    status: 'running',
    data: null,
    error: null,
    startedAt: at,
    finishedAt: null,
    durationMs: null,
    nextTask: null,
  })
  event(l, events, 'task_started', at, command.task.name, { seq, task_type: command.task.type, attempt, step: command.step })
  return { seq, taskName: command.task.name, taskType: command.task.type, attempt, startedAt: at }
}

/** The step write for the live execution's current state. */
export function stepWrite(
  l: Live,
  at: number,
  owner: string,
  leaseExpiresAt: number | null,
  events: readonly EventWrite[],
  parts: Pick<StepWrite, 'create' | 'interruptRun' | 'finishRun' | 'startRun' | 'takeover'>,
): StepWrite {
  const s = l.state
  if (isTerminal(s.status)) l.finishedAt = at
  return {
    executionId: l.id,
    owner,
    takeover: parts.takeover === true,
    leaseExpiresAt: isTerminal(s.status) ? null : leaseExpiresAt,
    create: parts.create,
    interruptRun: parts.interruptRun,
    finishRun: parts.finishRun,
    startRun: parts.startRun,
    state: {
      status: s.status,
      currentTask: s.currentTask,
      steps: s.steps,
      stepBase: s.stepBase,
      failedTask: s.failedTask,
      error: s.error,
      startedAt: l.startedAt,
      finishedAt: l.finishedAt,
      updatedAt: at,
      eventSeq: l.eventSeq,
    },
    events,
  }
}

export function detailOf(l: Live): ExecutionDetail {
  return {
    execution: {
      ...l.execution,
      input: l.input,
      status: l.state.status,
      currentTask: l.state.currentTask,
      steps: l.state.steps,
      stepBase: l.state.stepBase,
      failedTask: l.state.failedTask,
      error: l.state.error,
      startedAt: l.startedAt,
      finishedAt: l.finishedAt,
      eventSeq: l.eventSeq,
      leaseOwner: null,
    },
    runs: l.runs.slice(),
  }
}
