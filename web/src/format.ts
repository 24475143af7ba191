import { useEffect, useState } from 'react'
import { noteServerTime, serverNow } from './server-clock.js'

/** 850 ms, 1.2 s, 3 min 4 s, 2 h 5 min. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—'
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`
  return `${Math.floor(m / 60)} h ${m % 60} min`
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })

/** A local time, with the date when it is not today. */
export function formatTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—'
  const date = new Date(iso)
  return date.toDateString() === new Date().toDateString() ? timeFormat.format(date) : dateTimeFormat.format(date)
}

/**
 * Milliseconds between two ISO times written by the server, or from one until `now` (the
 * server's now, see useNow) while `to` is missing. Never negative: a start later than `now`
 * teaches the clock, and counts as just started.
 */
export function elapsed(from: string | null, to: string | null, now: number): number | null {
  if (from === null) return null
  const start = Date.parse(from)
  if (to !== null) return Math.max(0, Date.parse(to) - start)
  if (start > now) noteServerTime(start)
  return Math.max(0, now - start)
}

/** The server's current time, re-rendering every 100 ms while `active` (for running timers). */
export function useNow(active: boolean): number {
  const [, setTick] = useState(0)
  useEffect(() => {
    if (!active) return
    const timer = setInterval(() => setTick((t) => t + 1), 100)
    return () => clearInterval(timer)
  }, [active])
  // Read at each render, not kept from the last tick: a row that appears between ticks would
  // otherwise start from a stale time.
  return serverNow()
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'undefined'
}
