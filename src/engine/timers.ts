import { performance } from 'node:perf_hooks'

export interface Clock {
  /** Wall-clock time in epoch milliseconds, for timestamps. */
  now(): number
  /** A monotonic reading in milliseconds, for durations. */
  monotonic(): number
}

export const systemClock: Clock = { now: () => Date.now(), monotonic: () => performance.now() }

/** A timer that can be stopped before it fires. */
export interface TimerHandle {
  cancel(): void
}

/**
 * When something is due: the engine's in-memory timers (a run's timeout, a retry, the flow's
 * deadline, the worker's next look) go through this port, beside `Clock`, so that tests move time
 * instead of sleeping.
 */
export interface Timers {
  /** Calls `fn` once the clock reads `at` or later (epoch ms). A `weak` timer does not keep the process alive. */
  at(at: number, fn: () => void, options?: { readonly weak?: boolean }): TimerHandle
}

/** Timers on the system clock. */
export function systemTimers(clock: Clock = systemClock): Timers {
  return {
    at(at, fn, options) {
      let timer: NodeJS.Timeout
      // setTimeout keeps its own monotonic time: it may fire while the wall clock still reads a
      // millisecond before `at` (or far before, after a long wait is cut to 2^31 - 1 ms). Whoever
      // waits would then find nothing due and never be called again: wait for the rest instead.
      const arm = (): void => {
        const left = at - clock.now()
        if (left <= 0) return fn()
        timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1))
        if (options?.weak === true) timer.unref()
      }
      timer = setTimeout(arm, Math.max(0, Math.min(at - clock.now(), 2 ** 31 - 1)))
      if (options?.weak === true) timer.unref()
      return { cancel: () => clearTimeout(timer) }
    },
  }
}
