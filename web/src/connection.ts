import { useSyncExternalStore } from 'react'
import { noteServerDate } from './server-clock.js'

/** Whether the server answers, and when the UI tries again if it does not. */
export interface Connection {
  readonly reachable: boolean
  /** When the next attempt is due (epoch ms), while unreachable. */
  readonly retryAt: number | null
  readonly attempts: number
}

/** Waits between attempts: 1 s, 2 s, 4 s, then every 5 s. */
const delayAfter = (attempts: number): number => Math.min(5000, 1000 * 2 ** attempts)

let state: Connection = { reachable: true, retryAt: null, attempts: 0 }
const listeners = new Set<() => void>()
let waiters: (() => void)[] = []
let timer: ReturnType<typeof setTimeout> | undefined

function set(next: Connection): void {
  state = next
  for (const listener of listeners) listener()
}

function markReachable(): void {
  if (state.reachable) return
  clearTimeout(timer)
  set({ reachable: true, retryAt: null, attempts: 0 })
  const waiting = waiters
  waiters = []
  for (const wake of waiting) wake()
}

function schedule(attempts: number): void {
  const wait = delayAfter(attempts)
  set({ reachable: false, retryAt: Date.now() + wait, attempts })
  clearTimeout(timer)
  timer = setTimeout(() => void probe(), wait)
}

/** Asks /health (open without a key) whether the server is back. */
async function probe(): Promise<void> {
  try {
    const response = await fetch('/health', { cache: 'no-store' })
    if (response.ok) {
      markReachable()
      return
    }
  } catch {
    // still unreachable
  }
  if (!state.reachable) schedule(state.attempts + 1)
}

function markUnreachable(): void {
  if (state.reachable) schedule(0)
}

/** Tries at once instead of at the next attempt. */
export function retryNow(): void {
  clearTimeout(timer)
  void probe()
}

/** Resolves once the server answers again (at once when it does now); rejects when `signal` aborts. */
export function whenReachable(signal?: AbortSignal): Promise<void> {
  if (state.reachable) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const wake = (): void => {
      signal?.removeEventListener('abort', abort)
      resolve()
    }
    const abort = (): void => {
      waiters = waiters.filter((w) => w !== wake)
      reject(signal?.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'))
    }
    waiters.push(wake)
    signal?.addEventListener('abort', abort, { once: true })
  })
}

export function useConnection(): Connection {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    () => state,
  )
}

/** Thrown for a request that changes something, when the server did not answer: it may or may not have acted. */
export class UnreachableError extends Error {
  constructor() {
    super('The server did not answer, so this may not have happened. Check once it is back, then try again.')
    this.name = 'UnreachableError'
  }
}

/**
 * fetch, keeping track of whether the server answers. A network failure (or a proxy's 502/504)
 * marks it unreachable; with `retry` (reads, which are safe to repeat) the request then waits until
 * the server answers again and is sent again, instead of failing with "Failed to fetch".
 */
export async function reachingFetch(input: string, init: RequestInit, options: { retry: boolean }): Promise<Response> {
  for (;;) {
    let response: Response | undefined
    try {
      response = await fetch(input, init)
    } catch (error) {
      // fetch rejects with a TypeError when the network fails; an abort is a DOMException.
      if (!(error instanceof TypeError) || init.signal?.aborted === true) throw error
    }
    if (response !== undefined && response.status !== 502 && response.status !== 504) {
      noteServerDate(response.headers.get('date'))
      markReachable()
      return response
    }
    markUnreachable()
    if (!options.retry) throw new UnreachableError()
    await whenReachable(init.signal ?? undefined)
  }
}
