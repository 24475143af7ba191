import { setTimeout as sleep } from 'node:timers/promises'
import { advance, type Decision } from '../core/advance.js'
import { FlowManagerError } from '../core/errors.js'
import { LeaseLostError, type EventWrite, type ExecutionDetail, type StepWrite, type Store, type TaskRunRecord } from '../store/store.js'
import type { Logger, TaskRegistry } from '../tasks/define-task.js'
import type { Clock } from './engine.js'
import type { EngineListener, EngineNotice } from './engine-events.js'
import { beginRun, detailOf, event, stepWrite, type Live } from './live-execution.js'
import { RunContext } from './run-context.js'
import { runTask } from './run-task.js'

export interface RunnerDeps {
  readonly store: Store
  readonly tasks: TaskRegistry
  readonly clock: Clock
  readonly logger: Logger
  readonly nodeId: string
  readonly leaseMs: number
  readonly maxResultBytes: number
}

/** Runs live executions step by step; every step is one atomic, lease-fenced write. */
export interface Runner {
  readonly live: Map<string, Live>
  /** Writes an execution's first step; once committed, runs it and answers its `done` promise. */
  launch(l: Live, decision: Decision, first: StepWrite): Promise<{ readonly done: Promise<ExecutionDetail> }>
  cancel(l: Live, reason?: string): void
  waitForEnd(executionId: string, signal?: AbortSignal): Promise<ExecutionDetail>
  subscribe(listener: EngineListener): () => void
  /** Called whenever an execution stops running here, so that the worker can fill the slot. */
  onSlotFreed(listener: () => void): void
  /** Waits up to `graceMs` for running executions, then stops the rest without recording them. */
  drain(graceMs: number): Promise<void>
}

export function createRunner(deps: RunnerDeps): Runner {
  const { store, tasks, clock, logger, nodeId, leaseMs, maxResultBytes } = deps
  const live = new Map<string, Live>()
  const listeners = new Set<EngineListener>()
  const slotListeners: (() => void)[] = []

  const emit = (e: EngineNotice): void => {
    for (const listener of listeners) {
      try {
        listener(e)
      } catch (error) {
        logger.warn({ err: error }, 'an engine listener threw')
      }
    }
  }

  const logged = (executionId: string, events: readonly EventWrite[]): void => {
    if (events.length === 0) return
    emit({
      type: 'logged',
      executionId,
      events: events.map((e) => ({ executionId, seq: e.seq, type: e.type, at: e.at, taskName: e.taskName, data: e.data ?? (e.dataJson === null ? null : (JSON.parse(e.dataJson) as unknown)) })),
    })
  }

  const write = async (step: StepWrite): Promise<void> => {
    const pending = store.write(step)
    if (pending !== undefined) await pending
  }

  const drive = async (l: Live, first: Decision): Promise<ExecutionDetail> => {
    let decision = first
    const signal = l.controller.signal
    try {
      while (decision.command.type === 'run_task') {
        const { task, step } = decision.command
        const run = l.runs[l.runs.length - 1] as TaskRunRecord
        if (listeners.size > 0) {
          emit({ type: 'task_started', executionId: l.id, task: task.name, taskType: task.type, seq: run.seq, attempt: run.attempt, at: run.startedAt })
        }
        const context = new RunContext(l, task.name, step, run.attempt, signal, logger)
        const began = clock.monotonic()
        const pendingOutcome = runTask(tasks.get(task.type), task, task.input ?? l.input, context, maxResultBytes)
        const outcome = pendingOutcome instanceof Promise ? await pendingOutcome : pendingOutcome
        const durationMs = clock.monotonic() - began
        // Shutdown leaves the task run as recorded (running): recovery re-runs it, at least once.
        if (l.shutdown) return detailOf(l)
        const at = clock.now()
        const result = outcome.result
        decision = signal.aborted
          ? advance(l.plan, l.state, { type: 'cancel', reason: l.cancelReason ?? 'the execution was cancelled' })
          : advance(l.plan, l.state, { type: 'task_finished', result })
        l.state = decision.state
        const nextTask = decision.routedTo ?? null
        const error = result.status === 'failure' ? result.error : null
        // What later tasks and the caller see is what was stored (NaN becomes null, a Date its ISO text), so a
        // resumed execution sees the same results as an uninterrupted one.
        const data = outcome.dataJson === undefined ? null : (JSON.parse(outcome.dataJson) as unknown)
        l.runs[l.runs.length - 1] = {
          executionId: run.executionId,
          seq: run.seq,
          taskName: run.taskName,
          taskType: run.taskType,
          attempt: run.attempt,
          status: result.status,
          data,
          error,
          startedAt: run.startedAt,
          finishedAt: at,
          durationMs,
          nextTask,
        }
        l.results[task.name] = { status: result.status, data, error: error === null ? null : error.message }
        const events: EventWrite[] = []
        event(l, events, 'task_finished', at, task.name, {
          seq: run.seq,
          status: result.status,
          duration_ms: durationMs,
          error: error?.message ?? null,
          error_code: error?.code ?? null,
          next_task: nextTask,
        })
        if (nextTask !== null) event(l, events, 'routed', at, task.name, { to: nextTask, condition: task.condition?.name ?? null })
        const startRun = beginRun(l, decision, at, events)
        const finishRun = { seq: run.seq, status: result.status, dataJson: outcome.dataJson, error, finishedAt: at, durationMs, nextTask }
        await write(stepWrite(l, at, nodeId, at + leaseMs, events, { finishRun, startRun }))
        if (listeners.size > 0) {
          logged(l.id, events)
          emit({ type: 'task_finished', executionId: l.id, task: task.name, taskType: task.type, seq: run.seq, status: result.status, error, durationMs, nextTask, at })
        }
      }
      if (listeners.size > 0) {
        emit({ type: 'execution_finished', executionId: l.id, status: l.state.status, error: l.state.error, at: l.finishedAt ?? clock.now() })
      }
      return detailOf(l)
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error
      // Another node took the execution over (our lease expired): it finishes it; we stop here.
      logger.warn({ executionId: l.id }, 'lease lost: another node took this execution over')
      l.controller.abort(new FlowManagerError('SHUTTING_DOWN', 'another node took this execution over'))
      return waitForStored(l.id)
    } finally {
      live.delete(l.id)
      for (const listener of slotListeners) listener()
    }
  }

  /** Waits for an execution that runs elsewhere to end, reading the store with a growing interval. */
  const waitForStored = async (executionId: string, signal?: AbortSignal): Promise<ExecutionDetail> => {
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      const here = live.get(executionId)?.done
      if (here !== undefined) return here
      const detail = await store.getExecution(executionId)
      if (detail === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${executionId}"`)
      const status = detail.execution.status
      if (status === 'completed' || status === 'failed' || status === 'cancelled') return detail
      await sleep(delay, undefined, signal === undefined ? {} : { signal })
    }
  }

  return {
    live,
    async launch(l, decision, first) {
      live.set(l.id, l)
      try {
        await write(first)
      } catch (error) {
        live.delete(l.id)
        throw error
      }
      l.persisted = true
      if (listeners.size > 0) {
        logged(l.id, first.events)
        emit({ type: 'execution_started', executionId: l.id, flowId: l.execution.flowId, at: clock.now() })
      }
      const done = drive(l, decision)
      l.done = done
      // A store failure mid-run rejects `done`; the execution stays recorded as running and resumes later.
      done.catch((error: unknown) => logger.error({ err: error, executionId: l.id }, 'execution stopped: its progress could not be recorded'))
      return { done }
    },
    cancel(l, reason) {
      l.cancelReason = reason ?? 'the execution was cancelled'
      l.controller.abort(new FlowManagerError('EXECUTION_NOT_CANCELLABLE', l.cancelReason))
    },
    waitForEnd: (executionId, signal) => live.get(executionId)?.done ?? waitForStored(executionId, signal),
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    onSlotFreed(listener) {
      slotListeners.push(listener)
    },
    async drain(graceMs) {
      const running = (): Promise<unknown>[] => [...live.values()].map((l) => l.done?.catch(() => undefined) ?? Promise.resolve())
      let timer: NodeJS.Timeout | undefined
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs)
      })
      await Promise.race([Promise.all(running()), expired])
      clearTimeout(timer)
      for (const l of live.values()) {
        l.shutdown = true
        l.controller.abort(new FlowManagerError('SHUTTING_DOWN', 'the process is shutting down'))
      }
      await Promise.all(running())
    },
  }
}
