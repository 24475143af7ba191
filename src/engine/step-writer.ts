import { currentTask, isIdle, isTerminal, nextWake, type ExecutionState, type WaitingFor } from '../core/execution-state.js'
import type { Command, StartRun } from '../core/commands.js'
import { NEVER, type EventType, type EventWrite, type NewExecution, type RunEnd, type RunWrite, type StepWrite } from '../store/store.js'

/** A run ended by code: its data already serialized, and how long it took. */
export interface CodeOutcome {
  readonly dataJson: string | undefined
  readonly durationMs: number
}

/** What the actor knows of a run it started: when, and which attempt of which type. */
export interface OpenRunInfo {
  readonly startedAt: number
  readonly attempt: number
  readonly taskType: string
}

/** An execution-level event that opens a step (started, queued, resumed, cancel requested). */
export interface LeadingEvent {
  readonly type: EventType
  readonly data: object | null
}

export interface StepInput {
  readonly executionId: string
  readonly owner: string
  readonly at: number
  readonly leaseMs: number
  readonly takeover: boolean
  readonly create: NewExecution | undefined
  readonly inputJson: string | undefined
  readonly startedAt: number | null
  readonly eventSeq: number
  readonly storedBytes: number
  readonly outcomes: ReadonlyMap<number, CodeOutcome>
  readonly open: ReadonlyMap<number, OpenRunInfo>
  readonly childIds: ReadonlyMap<number, string>
  readonly children: readonly NewExecution[]
  readonly parentId: string | null
  readonly leading: readonly LeadingEvent[]
}

export interface Step {
  readonly write: StepWrite
  /** Runs whose code the shell starts once the step is committed. */
  readonly launches: readonly StartRun[]
  readonly eventSeq: number
  readonly storedBytes: number
  readonly finishedAt: number | null
}

/** Bytes a run end stores besides its data (row, error, event), counted against the execution's storage limit. */
const ROW_BYTES = 200
const iso = (ms: number): string => new Date(ms).toISOString()

export function waitingView(waiting: WaitingFor, childId: string | undefined): object {
  if (waiting.kind === 'timer') return { timer: iso(waiting.until) }
  if (waiting.kind === 'signal') return waiting.timeoutAt === null ? { signal: waiting.signal } : { signal: waiting.signal, timeout_at: iso(waiting.timeoutAt) }
  return { child: childId ?? null }
}

/**
 * The one function that turns decisions into a step write: the runs that begin, park and end,
 * the execution's new state and lease, the events of the log (a projection of the commands, so
 * the log says exactly what was decided), sub-flows to create or cancel, signals consumed. Runs
 * that begin and end in one step become one row.
 */
export function buildStep(input: StepInput, state: ExecutionState, commands: readonly Command[]): Step {
  const { at } = input
  let eventSeq = input.eventSeq
  let storedBytes = input.storedBytes
  const events: EventWrite[] = []
  const log = (type: EventType, taskName: string | null, data: object | null): void => {
    eventSeq += 1
    events.push({ seq: eventSeq, type, at, taskName, data })
  }
  for (const e of input.leading) log(e.type, null, e.data)

  const runs: RunWrite[] = []
  const startAt = new Map<number, number>()
  const launches: StartRun[] = []
  const cancelChildren: string[] = []
  const consumeSignals: { signalSeq: number; runSeq: number }[] = []
  let finished = false
  for (const c of commands) {
    switch (c.type) {
      case 'start_run': {
        const task = c.task
        startAt.set(c.seq, runs.length)
        runs.push({
          kind: 'start',
          seq: c.seq,
          taskName: task.name,
          taskType: task.type,
          attempt: c.attempt,
          startedAt: at,
          parentSeq: c.parentSeq,
          branch: c.branch,
          itemIndex: c.item,
          ...(c.items === undefined ? {} : { itemsJson: JSON.stringify(c.items) }),
        })
        const data: Record<string, unknown> = { seq: c.seq, task_type: task.type, attempt: c.attempt, step: c.step }
        if (c.parentSeq !== null) data.parent_seq = c.parentSeq
        if (c.branch !== null) data.branch = c.branch
        if (c.item !== null) data.item = c.item
        // A for_each task's item count: what its progress is measured against (the UI's "3/10 items").
        if (c.items !== undefined) data.item_count = c.items.length
        log('task_started', task.name, data)
        if (task.system === undefined && task.group === undefined && (task.forEach === undefined || c.item !== null)) launches.push(c)
        break
      }
      case 'park_run': {
        const view = JSON.stringify(waitingView(c.waiting, input.childIds.get(c.seq)))
        const i = startAt.get(c.seq)
        const start = i === undefined ? undefined : runs[i]
        if (start?.kind === 'start') runs[i as number] = { ...start, waitingForJson: view }
        else runs.push({ kind: 'park', seq: c.seq, waitingForJson: view })
        log('task_waiting', null, { seq: c.seq, waiting_for: JSON.parse(view) as unknown })
        break
      }
      case 'finish_run': {
        const outcome = input.outcomes.get(c.seq)
        const dataJson = c.data.from === 'result' ? outcome?.dataJson : c.data.from === 'value' ? JSON.stringify(c.data.value) : undefined
        const openedAt = input.open.get(c.seq)?.startedAt ?? at
        const end: RunEnd = {
          status: c.status,
          dataJson,
          error: c.error,
          finishedAt: at,
          durationMs: c.data.from === 'result' && outcome !== undefined ? outcome.durationMs : at - openedAt,
          nextTask: c.nextTask,
          retryAt: c.retryAt,
        }
        storedBytes += (dataJson?.length ?? 0) + ROW_BYTES + (c.error === null ? 0 : (c.error.stack?.length ?? 0) + c.error.message.length)
        const i = startAt.get(c.seq)
        const start = i === undefined ? undefined : runs[i]
        if (start?.kind === 'start') runs[i as number] = { ...start, end }
        else runs.push({ kind: 'end', seq: c.seq, ...end })
        const info = input.open.get(c.seq)
        const data: Record<string, unknown> = {
          seq: c.seq,
          attempt: info?.attempt ?? null,
          status: c.status,
          duration_ms: end.durationMs,
          error: c.error?.message ?? null,
          error_code: c.error?.code ?? null,
          next_task: c.nextTask,
        }
        if (c.retryAt !== null) data.retry_at = iso(c.retryAt)
        log('task_finished', c.task, data)
        if (c.nextTask !== null && c.retryAt === null && c.nextTask !== c.task) log('routed', c.task, { to: c.nextTask })
        break
      }
      case 'interrupt_run':
        runs.push({ kind: 'interrupt', seq: c.seq, at })
        log('task_interrupted', null, { seq: c.seq, attempt: c.attempt })
        break
      case 'cancel_child': {
        const child = input.childIds.get(c.seq)
        if (child !== undefined) cancelChildren.push(child)
        break
      }
      case 'consume_signal':
        consumeSignals.push({ signalSeq: c.signalSeq, runSeq: c.seq })
        break
      case 'finish':
        finished = true
        log('execution_finished', null, { status: c.status, error: state.error, failed_task: state.failedTask })
        break
      case 'abort_run':
      case 'start_child':
        break
    }
  }
  for (const e of events) storedBytes += 64 + e.type.length
  const terminal = isTerminal(state.status)
  const idle = !terminal && isIdle(state)
  const finishedAt = terminal ? at : null
  const write: StepWrite = {
    executionId: input.executionId,
    owner: input.owner,
    takeover: input.takeover,
    leaseExpiresAt: terminal || idle || state.status === 'pending' ? null : at + input.leaseMs,
    // An unowned execution is due when its earliest wait ends; one that waits for a signal or a child only when woken.
    wakeAt: idle ? (nextWake(state) ?? NEVER) : state.status === 'pending' ? (input.create?.createdAt ?? at) : null,
    create: input.create,
    state: {
      status: state.status,
      currentTask: currentTask(state),
      steps: state.steps,
      stepBase: state.stepBase,
      seq: state.seq,
      failedTask: state.failedTask,
      error: state.error,
      deadline: state.deadline,
      threads: state.threads,
      nextThread: state.nextThread,
      startedAt: input.startedAt,
      finishedAt,
      updatedAt: at,
      eventSeq,
      storedBytes,
      ...(input.inputJson === undefined ? {} : { inputJson: input.inputJson }),
    },
    runs,
    events,
    ...(input.children.length === 0 ? {} : { children: input.children }),
    ...(cancelChildren.length === 0 ? {} : { cancelChildren }),
    ...(consumeSignals.length === 0 ? {} : { consumeSignals }),
    ...(finished && input.parentId !== null ? { wakeParent: input.parentId } : {}),
  }
  return { write, launches, eventSeq, storedBytes, finishedAt }
}
