import { currentTask, isIdle, isTerminal, nextWake, type ExecutionState, type WaitingFor } from '../core/execution-state.js'
import type { Command, StartRun } from '../core/commands.js'
import { NEVER, type EventType, type EventWrite, type NewExecution, type RunWrite, type StepWrite } from '../store/store.js'

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
  /** The poke counter as the actor last saw it; a wake-up that came since makes a parked execution due at once. */
  readonly poke: number
}

export interface Step {
  readonly write: StepWrite
  /** Runs whose code the shell starts once the step is committed. */
  readonly launches: readonly StartRun[]
  readonly eventSeq: number
  readonly storedBytes: number
  readonly finishedAt: number | null
}

/** Bytes a run end and an event store besides data, counted against the execution's storage limit. */
const ROW_BYTES = 200
const EVENT_BYTES = 80
const event = (seq: number, type: EventType, at: number, taskName: string | null, data: object | null): EventWrite => ({ seq, type, at, taskName, data })
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
  for (const e of input.leading) events.push(event(++eventSeq, e.type, at, null, e.data))

  const runs: RunWrite[] = []
  const launches: StartRun[] = []
  let cancelChildren: string[] | undefined
  let consumeSignals: { signalSeq: number; runSeq: number }[] | undefined
  let finished = false
  // A step that begins waiting for a signal or a child must look at what arrived before the wait began.
  let beginsWait = false
  for (const c of commands) {
    switch (c.type) {
      case 'start_run': {
        const task = c.task
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
          itemsJson: c.items === undefined ? undefined : JSON.stringify(c.items),
          waitingForJson: undefined,
          end: undefined,
        })
        events.push(event(++eventSeq, 'task_started', at, task.name, startedData(c)))
        if (task.system === undefined && task.group === undefined && (task.forEach === undefined || c.item !== null)) launches.push(c)
        break
      }
      case 'park_run': {
        if (c.waiting.kind !== 'timer') beginsWait = true
        const view = waitingView(c.waiting, input.childIds.get(c.seq))
        const json = JSON.stringify(view)
        const i = startIndex(runs, c.seq)
        const start = runs[i]
        if (start?.kind === 'start') runs[i] = { ...start, waitingForJson: json }
        else runs.push({ kind: 'park', seq: c.seq, waitingForJson: json })
        events.push(event(++eventSeq, 'task_waiting', at, c.task, { seq: c.seq, waiting_for: view }))
        break
      }
      case 'finish_run': {
        const outcome = c.data.from === 'result' ? input.outcomes.get(c.seq) : undefined
        const dataJson = outcome !== undefined ? outcome.dataJson : c.data.from === 'value' ? JSON.stringify(c.data.value) : undefined
        const durationMs = outcome !== undefined ? outcome.durationMs : at - (input.open.get(c.seq)?.startedAt ?? at)
        storedBytes += (dataJson?.length ?? 0) + ROW_BYTES + (c.error === null ? 0 : (c.error.stack?.length ?? 0) + c.error.message.length)
        const i = startIndex(runs, c.seq)
        const start = runs[i]
        if (start?.kind === 'start') {
          runs[i] = { ...start, end: { status: c.status, dataJson, error: c.error, finishedAt: at, durationMs, nextTask: c.nextTask, retryAt: c.retryAt } }
        } else {
          runs.push({ kind: 'end', seq: c.seq, status: c.status, dataJson, error: c.error, finishedAt: at, durationMs, nextTask: c.nextTask, retryAt: c.retryAt })
        }
        events.push(event(++eventSeq, 'task_finished', at, c.task, finishedData(c, input.open.get(c.seq)?.attempt ?? null, durationMs)))
        if (c.nextTask !== null && c.retryAt === null && c.nextTask !== c.task) events.push(event(++eventSeq, 'routed', at, c.task, { to: c.nextTask }))
        break
      }
      case 'interrupt_run':
        runs.push({ kind: 'interrupt', seq: c.seq, at })
        events.push(event(++eventSeq, 'task_interrupted', at, c.task, { seq: c.seq, attempt: c.attempt }))
        break
      case 'cancel_child': {
        const child = input.childIds.get(c.seq)
        if (child !== undefined) (cancelChildren ??= []).push(child)
        break
      }
      case 'consume_signal':
        ;(consumeSignals ??= []).push({ signalSeq: c.signalSeq, runSeq: c.seq })
        events.push(event(++eventSeq, 'signal_received', at, c.task, { seq: c.seq, signal: c.signal, signal_seq: c.signalSeq }))
        break
      case 'finish':
        finished = true
        events.push(event(++eventSeq, 'execution_finished', at, null, { status: c.status, error: state.error, failed_task: state.failedTask }))
        break
      case 'abort_run':
      case 'start_child':
        break
    }
  }
  storedBytes += EVENT_BYTES * events.length
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
      inputJson: input.inputJson,
    },
    runs,
    events,
    children: input.children.length === 0 ? undefined : input.children,
    cancelChildren,
    consumeSignals,
    wakeParent: finished && input.parentId !== null ? input.parentId : undefined,
    pokeSeen: beginsWait ? -1 : input.poke,
  }
  return { write, launches, eventSeq, storedBytes, finishedAt }
}

/** Where in `runs` the start of run `seq` is (a step is short: a scan is cheaper than a map). */
function startIndex(runs: readonly RunWrite[], seq: number): number {
  for (let i = runs.length - 1; i >= 0; i--) {
    const w = runs[i] as RunWrite
    if (w.seq === seq && w.kind === 'start') return i
  }
  return -1
}

function startedData(c: StartRun): object {
  if (c.parentSeq === null && c.branch === null && c.item === null && c.items === undefined) return { seq: c.seq, task_type: c.task.type, attempt: c.attempt, step: c.step }
  const data: Record<string, unknown> = { seq: c.seq, task_type: c.task.type, attempt: c.attempt, step: c.step }
  if (c.parentSeq !== null) data.parent_seq = c.parentSeq
  if (c.branch !== null) data.branch = c.branch
  if (c.item !== null) data.item = c.item
  // A for_each task's item count: what its progress is measured against (the UI's "3/10 items").
  if (c.items !== undefined) data.item_count = c.items.length
  return data
}

function finishedData(c: Extract<Command, { type: 'finish_run' }>, attempt: number | null, durationMs: number): object {
  const data = {
    seq: c.seq,
    attempt,
    status: c.status,
    duration_ms: durationMs,
    error: c.error?.message ?? null,
    error_code: c.error?.code ?? null,
    next_task: c.nextTask,
  }
  return c.retryAt === null ? data : { ...data, retry_at: iso(c.retryAt) }
}
