import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { ApiError } from './api.js'
import { json } from './format.js'
import { onLinkClick } from './router.js'

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }): React.JSX.Element {
  return (
    <a href={to} onClick={onLinkClick} {...(className === undefined ? {} : { className })}>
      {children}
    </a>
  )
}

/** An execution or task-run status as a coloured badge; colour is never the only signal. */
export function StatusBadge({ status }: { status: string }): React.JSX.Element {
  return <span className={`fm-badge status-${status}`}>{status}</span>
}

export function JsonBlock({ value, label }: { value: unknown; label?: string }): React.JSX.Element {
  return (
    <pre className="fm-json" tabIndex={0} {...(label === undefined ? {} : { 'aria-label': label })}>
      {json(value)}
    </pre>
  )
}

export function ErrorBox({ error }: { error: unknown }): React.JSX.Element | null {
  if (error === undefined || error === null) return null
  const text = error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : typeof error === 'string' ? error : 'Something went wrong.'
  return (
    <p className="fm-error" role="alert">
      {text}
    </p>
  )
}

export interface Loaded<T> {
  readonly data: T | undefined
  readonly error: unknown
  readonly loading: boolean
  /** Loads again, keeping the current data on screen meanwhile. */
  readonly reload: () => void
}

/** Loads with `load` whenever `deps` change; a newer load wins over an older one still in flight. */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true })
  const [tick, setTick] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load
  useEffect(() => {
    const controller = new AbortController()
    setState((s) => ({ ...s, loading: true }))
    loadRef.current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, error: undefined, loading: false })
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState((s) => ({ data: s.data, error, loading: false }))
      },
    )
    return () => controller.abort()
    // `deps` is the caller's dependency list, passed through like useEffect's.
  }, [...deps, tick])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { ...state, reload }
}

/** Sets the document title while a page is shown. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Flow Manager`
  }, [title])
}

/**
 * A stable function that calls `fn` `ms` after the first of a burst of calls, and merges the rest of
 * the burst into that call: at most one call per `ms`, and always one after the last call.
 */
export function useCoalesced(fn: () => void, ms: number): () => void {
  const fnRef = useRef(fn)
  fnRef.current = fn
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  useEffect(() => () => clearTimeout(timer.current), [])
  return useMemo(
    () => () => {
      if (timer.current !== undefined) return
      timer.current = setTimeout(() => {
        timer.current = undefined
        fnRef.current()
      }, ms)
    },
    [ms],
  )
}
