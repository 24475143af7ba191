import { setTimeout as sleep } from 'node:timers/promises'
import { advance, type Decision, type EngineEvent as StepEvent, type ExecutionError } from '../core/advance.js'
import { FlowManagerError } from '../core/errors.js'
import { renderInput } from '../core/input-mapping.js'
import type { PlanTask } from '../core/plan.js'
import type { NormalizedResult } from '../core/task-result.js'
import { LeaseLostError, type EventWrite, type ExecutionDetail, type ExecutionRecord, type StepWrite, type Store, type TaskRunRecord } from '../store/store.js'
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
  /** The wait before a retry; tests pass one that records the delay and returns at once. */
  readonly waitBeforeAttempt?: WaitBeforeAttempt
}

/** Waits `ms` before the next attempt of a task; settles early (and quietly) when `signal` aborts. */
export type WaitBeforeAttempt = (ms: number, signal: AbortSignal) => Promise<void>

/**
 * The timer of a retry's backoff. The wait itself is durable: before it starts, the failed attempt
 * is recorded with the time the next one is due and the lease is handed back, so the execution
 * holds no slot while it waits and any node takes it up when it is due if this one is gone.
 */
export const waitBeforeAttempt: WaitBeforeAttempt = async (ms, signal) => {
  if (ms <= 0 || signal.aborted) return
  await sleep(ms, undefined, { signal }).catch(() => undefined)
}

/**
 * Why an execution's signal was aborted; a task that rejects with it records this code, so a
 * cancelled task run says EXECUTION_CANCELLED.
 */
class StopError extends Error {
  constructor(
    readonly code: 'EXECUTION_CANCELLED' | 'SHUTTING_DOWN' | 'LEASE_LOST',
    message: string,
  ) {
    super(message)
    this.name = 'StopError'
  }
}

/** Why an attempt's signal was aborted by a timer. */
class TimeoutError extends Error {
  constructor(
    readonly code: 'TASK_TIMEOUT' | 'EXECUTION_TIMEOUT',
    message: string,
  ) {
    super(message)
    this.name = 'TimeoutError'
  }
}

interface AttemptSignal {
  readonly signal: AbortSignal
  /** Which limit aborted the attempt, if one did. */
  expired(): 'task' | 'execution' | null
  dispose(): void
}

/** The execution's own signal, unchanged: built per task run, so a class keeps it to one small object. */
class NoLimit implements AttemptSignal {
  constructor(readonly signal: AbortSignal) {}
  expired(): null {
    return null
  }
  dispose(): void {}
}

/**
 * The signal of one task run: the execution's signal (cancel, shutdown) plus the task's
 * `timeout_ms` and whatever is left of the flow's. Without limits it is the execution's own
 * signal, so that a flow without timeouts pays nothing for them.
 */
function attemptSignal(parent: AbortSignal, task: string, taskMs: number | undefined, flowLeftMs: number | undefined): AttemptSignal {
  if (taskMs === undefined && flowLeftMs === undefined) return new NoLimit(parent)
  const controller = new AbortController()
  let expired: 'task' | 'execution' | null = null
  const onAbort = (): void => controller.abort(parent.reason)
  parent.addEventListener('abort', onAbort, { once: true })
  const byTask = taskMs !== undefined && (flowLeftMs === undefined || taskMs < flowLeftMs)
  const ms = Math.max(0, (byTask ? taskMs : flowLeftMs) ?? 0)
  const timer = setTimeout(() => {
    expired = byTask ? 'task' : 'execution'
    controller.abort(
      byTask
        ? new TimeoutError('TASK_TIMEOUT', `task "${task}" ran over its timeout_ms (${ms} ms) and was cancelled`)
        : new TimeoutError('EXECUTION_TIMEOUT', `the execution ran over the flow's timeout_ms while task "${task}" ran; the task was cancelled`),
    )
  }, ms)
  return {
    signal: controller.signal,
    expired: () => expired,
    dispose() {
      clearTimeout(timer)
      parent.removeEventListener('abort', onAbort)
    },
  }
}

const executionTimeout = (timeoutMs: number): ExecutionError => ({
  code: 'EXECUTION_TIMEOUT',
  message: `the execution ran over the flow's timeout_ms (${timeoutMs} ms)`,
})

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
  /** Ends a retry's wait at once (its execution was asked to cancel): it is taken up and decided now. */
  wakeEarly(executionId: string): void
  /** Waits up to `graceMs` for running executions, then stops the rest without recording them. */
  drain(graceMs: number): Promise<void>
}

const failed = (message: string, code: string): NormalizedResult => ({ result: { status: 'failure', error: { message, code, retryable: false } }, dataJson: undefined })

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
      events: events.map((e) => ({ executionId, seq: e.seq, type: e.type, at: e.at, taskName: e.taskName, data: e.data })),
    })
  }

  const wait = deps.waitBeforeAttempt ?? waitBeforeAttempt

  const emitFinished = (
    executionId: string,
    task: PlanTask,
    seq: number,
    status: 'success' | 'failure',
    error: TaskRunRecord['error'],
    durationMs: number,
    nextTask: string | null,
    at: number,
  ): void => emit({ type: 'task_finished', executionId, task: task.name, taskType: task.type, seq, status, error, durationMs, nextTask, at })

  /** Runs the task with its input mapped (when it has `${…}`); a mapping error fails the run without running it. */
  const startTask = (l: Live, task: PlanTask, context: RunContext): NormalizedResult | Promise<NormalizedResult> => {
    let input = task.input ?? l.input
    if (task.inputMapping !== undefined) {
      const rendered = renderInput(task.inputMapping, { input: l.input, results: l.results })
      if (!rendered.ok) return failed(`the input of task "${task.name}" could not be mapped: ${rendered.message}`, 'INPUT_MAPPING_ERROR')
      input = rendered.value
    }
    return runTask(tasks.get(task.type), task, input, context, maxResultBytes)
  }

  /** Executions waiting out a retry's backoff here, with the means to end the wait early. */
  const waiting = new Map<string, AbortController>()
  let stopping = false

  /**
   * Waits until `wakeAt`, then takes the execution back from the store. Undefined when another node
   * took it up meanwhile (or it ended); 'stopped' when this process is shutting down.
   */
  const waitAndReclaim = async (l: Live, wakeAt: number): Promise<ExecutionRecord | 'stopped' | undefined> => {
    const early = new AbortController()
    waiting.set(l.id, early)
    try {
      await wait(Math.max(0, wakeAt - clock.now()), AbortSignal.any([l.controller.signal, early.signal]))
    } finally {
      waiting.delete(l.id)
    }
    if (stopping) return 'stopped'
    // The wait is over by this node's account (its timer, or an early wake for a cancel), so it is due.
    const now = Math.max(clock.now(), wakeAt)
    const [record] = await store.claim({ owner: nodeId, limit: 1, now, leaseMs, deadOwners: [], onlyIds: [l.id] })
    return record
  }

  /** After the wait: the retry as planned, unless a cancel came or the flow's deadline passed. */
  const afterWait = (l: Live, planned: Decision, cancelRequested: boolean, deadline: number | undefined, flowTimeout: number): Decision => {
    let decision = planned
    if (l.controller.signal.aborted || cancelRequested) {
      decision = advance(l.plan, l.state, { type: 'cancel', reason: l.cancelReason ?? 'the execution was cancelled' })
    } else if (deadline !== undefined && clock.now() >= deadline) {
      decision = advance(l.plan, l.state, { type: 'fail', error: executionTimeout(flowTimeout) })
    }
    l.state = decision.state
    return decision
  }

  const write = async (step: StepWrite): Promise<void> => {
    const pending = store.write(step)
    if (pending !== undefined) await pending
  }

  const drive = async (l: Live, first: Decision): Promise<ExecutionDetail> => {
    let decision = first
    const signal = l.controller.signal
    const flowTimeout = l.plan.timeoutMs
    const deadline = flowTimeout === undefined ? undefined : (l.startedAt ?? clock.now()) + flowTimeout
    try {
      while (decision.command.type === 'run_task') {
        const { task, step } = decision.command
        const run = l.runs[l.runs.length - 1] as TaskRunRecord
        if (listeners.size > 0) {
          emit({ type: 'task_started', executionId: l.id, task: task.name, taskType: task.type, seq: run.seq, attempt: run.attempt, at: run.startedAt })
        }
        const flowLeft = deadline === undefined ? undefined : deadline - clock.now()
        const limits = attemptSignal(signal, task.name, task.timeoutMs, flowLeft)
        const began = clock.monotonic()
        let outcome: NormalizedResult
        if (flowLeft !== undefined && flowLeft <= 0) {
          outcome = failed(executionTimeout(flowTimeout ?? 0).message, 'EXECUTION_TIMEOUT')
        } else {
          const context = new RunContext(l, task.name, step, run.attempt, limits.signal, logger)
          const pendingOutcome = startTask(l, task, context)
          outcome = pendingOutcome instanceof Promise ? await pendingOutcome : pendingOutcome
        }
        limits.dispose()
        const durationMs = clock.monotonic() - began
        // Shutdown leaves the task run as recorded (running): recovery re-runs it, at least once.
        if (l.shutdown) return detailOf(l)
        const at = clock.now()
        const result = outcome.result
        const error = result.status === 'failure' ? result.error : null
        // What later tasks and the caller see is what was stored (NaN becomes null, a Date its ISO text), so a
        // resumed execution sees the same results as an uninterrupted one.
        const data = outcome.dataJson === undefined ? null : (JSON.parse(outcome.dataJson) as unknown)
        l.results[task.name] = { status: result.status, data, error: error === null ? null : error.message }
        let stepEvent: StepEvent
        if (signal.aborted) stepEvent = { type: 'cancel', reason: l.cancelReason ?? 'the execution was cancelled' }
        else if (limits.expired() === 'execution' || error?.code === 'EXECUTION_TIMEOUT') stepEvent = { type: 'fail', error: executionTimeout(flowTimeout ?? 0) }
        else if (task.route === undefined && task.retry?.jitter !== true) stepEvent = { type: 'task_finished', result }
        else stepEvent = { type: 'task_finished', result, scope: { input: l.input, results: l.results }, random: Math.random() }
        decision = advance(l.plan, l.state, stepEvent)
        l.state = decision.state
        const next = decision.command
        // A retry is the same task at the same step; its wait is planned by the core and carried out below.
        const retryInMs = next.type === 'run_task' && next.step === step && next.task === task ? next.delayMs : null
        const nextTask = decision.routedTo ?? null
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
        const events: EventWrite[] = []
        const finished = {
          seq: run.seq,
          attempt: run.attempt,
          status: result.status,
          duration_ms: durationMs,
          error: error?.message ?? null,
          error_code: error?.code ?? null,
          next_task: nextTask,
        }
        event(l, events, 'task_finished', at, task.name, retryInMs === null ? finished : { ...finished, retry_in_ms: retryInMs })
        if (nextTask !== null && retryInMs === null) event(l, events, 'routed', at, task.name, { to: nextTask, condition: task.condition?.name ?? null })
        const finishRun = { seq: run.seq, status: result.status, dataJson: outcome.dataJson, error, finishedAt: at, durationMs, nextTask }
        if (retryInMs !== null && retryInMs > 0) {
          // The failed attempt is recorded with the time the next is due, and the lease handed back.
          const wakeAt = at + Math.min(retryInMs, deadline === undefined ? Infinity : Math.max(0, deadline - at))
          await write({ ...stepWrite(l, at, nodeId, null, events, { finishRun }), wakeAt })
          if (listeners.size > 0) {
            logged(l.id, events)
            emitFinished(l.id, task, run.seq, result.status, error, durationMs, nextTask, at)
          }
          live.delete(l.id)
          for (const listener of slotListeners) listener()
          const reclaimed = await waitAndReclaim(l, wakeAt)
          if (reclaimed === 'stopped') return detailOf(l)
          if (reclaimed === undefined) return await waitForStored(l.id)
          live.set(l.id, l)
          decision = afterWait(l, decision, reclaimed.cancelRequested, deadline, flowTimeout ?? 0)
          const woke = clock.now()
          const wakeEvents: EventWrite[] = []
          const startRun = beginRun(l, decision, woke, wakeEvents)
          await write(stepWrite(l, woke, nodeId, woke + leaseMs, wakeEvents, { startRun }))
          if (listeners.size > 0) logged(l.id, wakeEvents)
          continue
        }
        const startRun = beginRun(l, decision, at, events)
        await write(stepWrite(l, at, nodeId, at + leaseMs, events, { finishRun, startRun }))
        if (listeners.size > 0) {
          logged(l.id, events)
          emitFinished(l.id, task, run.seq, result.status, error, durationMs, nextTask, at)
        }
      }
      if (listeners.size > 0) {
        emit({ type: 'execution_finished', executionId: l.id, flowId: l.execution.flowId, flowVersion: l.execution.flowVersion, status: l.state.status, error: l.state.error, at: l.finishedAt ?? clock.now() })
      }
      return detailOf(l)
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error
      // Another node took the execution over (our lease expired): it finishes it; we stop here.
      logger.warn({ executionId: l.id }, 'lease lost: another node took this execution over')
      l.controller.abort(new StopError('LEASE_LOST', 'another node took this execution over'))
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
        emit({ type: 'execution_started', executionId: l.id, flowId: l.execution.flowId, flowVersion: l.execution.flowVersion, at: clock.now() })
      }
      const done = drive(l, decision)
      l.done = done
      // A store failure mid-run rejects `done`; the execution stays recorded as running and resumes later.
      done.catch((error: unknown) => logger.error({ err: error, executionId: l.id }, 'execution stopped: its progress could not be recorded'))
      return { done }
    },
    cancel(l, reason) {
      l.cancelReason = reason ?? 'the execution was cancelled'
      l.controller.abort(new StopError('EXECUTION_CANCELLED', l.cancelReason))
    },
    waitForEnd: (executionId, signal) => live.get(executionId)?.done ?? waitForStored(executionId, signal),
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    onSlotFreed(listener) {
      slotListeners.push(listener)
    },
    wakeEarly(executionId) {
      waiting.get(executionId)?.abort()
    },
    async drain(graceMs) {
      stopping = true
      for (const waiter of waiting.values()) waiter.abort()
      const running = (): Promise<unknown>[] => [...live.values()].map((l) => l.done?.catch(() => undefined) ?? Promise.resolve())
      let timer: NodeJS.Timeout | undefined
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs)
      })
      await Promise.race([Promise.all(running()), expired])
      clearTimeout(timer)
      for (const l of live.values()) {
        l.shutdown = true
        l.controller.abort(new StopError('SHUTTING_DOWN', 'the process is shutting down'))
      }
      await Promise.all(running())
    },
  }
}
