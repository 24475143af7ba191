import type { EngineEvent } from '../engine/engine-events.js'
import type { ExecutionDetail, TaskRunRecord } from '../store/store.js'

/**
 * The events of an execution on the wire (SSE `data:`), snake_case like the rest of the API.
 *
 * Until the store keeps an event log, the history is derived from the recorded task runs. Ids are
 * numbers that follow the order of events and are the same whether an event comes from the
 * history or live, so `Last-Event-ID` resumes without gaps or repeats:
 *   execution_started before task run s: 4s;  task_started s: 4s+1;  task_finished s: 4s+2;
 *   execution_finished after task run s: 4s+3 (s ≥ 1).
 */
export type WireEvent =
  | { readonly type: 'execution_started'; readonly execution_id: string; readonly flow_id: string; readonly at: string }
  | {
      readonly type: 'task_started'
      readonly execution_id: string
      readonly task_name: string
      readonly task_type: string
      readonly seq: number
      readonly attempt: number
      readonly at: string
    }
  | {
      readonly type: 'task_finished'
      readonly execution_id: string
      readonly task_name: string
      readonly seq: number
      readonly status: 'success' | 'failure' | 'interrupted'
      readonly error: string | null
      readonly error_code: string | null
      readonly duration_ms: number | null
      readonly next_task: string | null
      readonly at: string
    }
  | {
      readonly type: 'execution_finished'
      readonly execution_id: string
      readonly status: string
      readonly error: { readonly code: string; readonly message: string } | null
      readonly at: string
    }

export interface IdentifiedEvent {
  readonly id: number
  readonly event: WireEvent
}

const iso = (ms: number): string => new Date(ms).toISOString()
const TERMINAL = new Set(['completed', 'failed', 'cancelled'])

export const startedId = (firstSeq: number): number => 4 * firstSeq
export const taskStartedId = (seq: number): number => 4 * seq + 1
export const taskFinishedId = (seq: number): number => 4 * seq + 2
export const finishedId = (lastSeq: number): number => 4 * Math.max(lastSeq, 1) + 3

function runEvents(run: TaskRunRecord): IdentifiedEvent[] {
  const out: IdentifiedEvent[] = [
    {
      id: taskStartedId(run.seq),
      event: { type: 'task_started', execution_id: run.executionId, task_name: run.taskName, task_type: run.taskType, seq: run.seq, attempt: run.attempt, at: iso(run.startedAt) },
    },
  ]
  if (run.status !== 'running') {
    out.push({
      id: taskFinishedId(run.seq),
      event: {
        type: 'task_finished',
        execution_id: run.executionId,
        task_name: run.taskName,
        seq: run.seq,
        status: run.status,
        error: run.error?.message ?? null,
        error_code: run.error?.code ?? null,
        duration_ms: run.durationMs,
        next_task: run.nextTask,
        at: iso(run.finishedAt ?? run.startedAt),
      },
    })
  }
  return out
}

/** The history of an execution as far as it is recorded, in order. */
export function historyOf(detail: ExecutionDetail): IdentifiedEvent[] {
  const { execution, runs } = detail
  const out: IdentifiedEvent[] = []
  if (execution.startedAt !== null || runs.length > 0) {
    out.push({
      id: startedId(runs[0]?.seq ?? 1),
      event: { type: 'execution_started', execution_id: execution.id, flow_id: execution.flowId, at: iso(execution.startedAt ?? execution.createdAt) },
    })
  }
  for (const run of runs) out.push(...runEvents(run))
  if (TERMINAL.has(execution.status)) {
    out.push({
      id: finishedId(runs[runs.length - 1]?.seq ?? 0),
      event: { type: 'execution_finished', execution_id: execution.id, status: execution.status, error: execution.error, at: iso(execution.finishedAt ?? execution.createdAt) },
    })
  }
  return out
}

/**
 * Turns live engine events into identified wire events. An `execution_started` is held until the
 * event after it, because its id depends on the task run it starts, which the engine event lacks.
 */
export class LiveEventMapper {
  #lastSeq: number
  #heldStart: Extract<EngineEvent, { type: 'execution_started' }> | undefined

  constructor(lastSeq: number) {
    this.#lastSeq = lastSeq
  }

  map(event: EngineEvent): IdentifiedEvent[] {
    if (event.type === 'execution_started') {
      this.#heldStart = event
      return []
    }
    const out: IdentifiedEvent[] = []
    const held = this.#heldStart
    if (held !== undefined) {
      this.#heldStart = undefined
      const seq = event.type === 'task_started' ? event.seq : this.#lastSeq + 1
      out.push({ id: startedId(seq), event: { type: 'execution_started', execution_id: held.executionId, flow_id: held.flowId, at: iso(held.at) } })
    }
    switch (event.type) {
      case 'task_started':
        this.#lastSeq = Math.max(this.#lastSeq, event.seq)
        out.push({
          id: taskStartedId(event.seq),
          event: { type: 'task_started', execution_id: event.executionId, task_name: event.task, task_type: event.taskType, seq: event.seq, attempt: event.attempt, at: iso(event.at) },
        })
        break
      case 'task_finished':
        this.#lastSeq = Math.max(this.#lastSeq, event.seq)
        out.push({
          id: taskFinishedId(event.seq),
          event: {
            type: 'task_finished',
            execution_id: event.executionId,
            task_name: event.task,
            seq: event.seq,
            status: event.status,
            error: event.error?.message ?? null,
            error_code: event.error?.code ?? null,
            duration_ms: event.durationMs,
            next_task: event.nextTask,
            at: iso(event.at),
          },
        })
        break
      case 'execution_finished':
        out.push({
          id: finishedId(this.#lastSeq),
          event: { type: 'execution_finished', execution_id: event.executionId, status: event.status, error: event.error, at: iso(event.at) },
        })
        break
    }
    return out
  }

  /** Keeps the numbering in step with what a re-read of the record showed. */
  seen(lastSeq: number): void {
    this.#lastSeq = Math.max(this.#lastSeq, lastSeq)
  }
}

/** One SSE message. JSON.stringify never emits a raw newline, so data fits on one line. */
export function formatSse(item: IdentifiedEvent): string {
  return `id: ${item.id}\nevent: ${item.event.type}\ndata: ${JSON.stringify(item.event)}\n\n`
}
