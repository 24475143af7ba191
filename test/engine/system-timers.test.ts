import { describe, expect, it } from 'vitest'
import { systemTimers, type Clock } from '../../src/engine/timers.js'

/** The engine's timers call back once the wall clock reads the time asked for, never before. */

describe('systemTimers', () => {
  it('does not call back while the wall clock still reads before the time, and calls back once it does', async () => {
    // A wall clock that falls behind setTimeout's own time after the timer is set (as Date.now may by a millisecond).
    let behind = 0
    const clock: Clock = { now: () => Date.now() - behind, monotonic: () => performance.now() }
    const timers = systemTimers(clock)
    const at = clock.now() + 5
    const fired = new Promise<number>((resolve) => timers.at(at, () => resolve(clock.now())))
    behind = 25
    expect(await fired).toBeGreaterThanOrEqual(at)
  })

  it('can be cancelled before it fires', async () => {
    const timers = systemTimers()
    let calls = 0
    timers.at(Date.now() + 1, () => calls++).cancel()
    await new Promise<void>((resolve) => timers.at(Date.now() + 5, resolve))
    expect(calls).toBe(0)
  })
})
