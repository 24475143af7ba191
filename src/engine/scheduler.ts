import type { StartRun } from '../core/commands.js'
import type { NormalizedResult } from '../core/task-result.js'
import type { Logger, TaskRegistry } from '../tasks/define-task.js'
import { LazySignal, RunContext, type RunContextSource } from './run-context.js'
import { runTask } from './run-task.js'
import type { Clock } from './timers.js'

/** A run's code ended: its normalized result and how long it took. */
export interface RunOutcome {
  readonly seq: number
  readonly outcome: NormalizedResult
  readonly durationMs: number
}

/** A run whose code is running: abort it when the core closed it (cancel, timeout) or the node stops. */
export interface Running {
  abort(reason: Error): void
}

/**
 * Runs task attempts: the code of each run the core started, with its own copy of the input and a
 * signal that aborts it. It decides nothing: every outcome goes back to the execution's actor.
 */
export interface Scheduler {
  launch(run: StartRun, source: RunContextSource, executionId: string, report: (outcome: RunOutcome) => void): Running
}

export function createScheduler(deps: { readonly tasks: TaskRegistry; readonly clock: Clock; readonly logger: Logger; readonly maxResultBytes: number }): Scheduler {
  const { tasks, clock, logger, maxResultBytes } = deps
  return {
    launch(run, source, executionId, report) {
      const abort = new LazySignal()
      const task = run.task
      const context = new RunContext(source, task.name, run.attempt, run, abort, logger)
      const began = clock.monotonic()
      const pending = runTask(tasks.get(task.type), task, ownCopy(run.input), context, maxResultBytes)
      if (pending instanceof Promise) {
        pending.then(
          (outcome) => report({ seq: run.seq, outcome, durationMs: clock.monotonic() - began }),
          (error: unknown) => logger.error({ err: error, executionId }, 'a task run settled abnormally'),
        )
      } else {
        report({ seq: run.seq, outcome: pending, durationMs: clock.monotonic() - began })
      }
      return abort
    },
  }
}

/** Each run gets its own input: a task that changes its input changes nothing for anyone else. */
function ownCopy(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input
  return copy(input)
}

function copy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(copy)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    // defineProperty keeps a "__proto__" key as data.
    Object.defineProperty(out, key, { value: copy((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true })
  }
  return out
}
