import { useEffect, useState } from 'react'

/** The UI lives under /ui/ (SPEC §4); routes are paths below it, e.g. /ui/executions/{id}. */
export const BASE = '/ui'

export type Route =
  | { readonly page: 'executions' }
  | { readonly page: 'execution'; readonly id: string }
  | { readonly page: 'flows' }
  | { readonly page: 'flow'; readonly id: string }
  | { readonly page: 'editor' }
  | { readonly page: 'tasks' }
  | { readonly page: 'not-found' }

export function parseRoute(pathname: string): Route {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent)
  const [first, second] = parts
  if (parts.length === 0 || (first === 'executions' && parts.length === 1)) return { page: 'executions' }
  if (first === 'executions' && second !== undefined && parts.length === 2) return { page: 'execution', id: second }
  if (first === 'flows' && parts.length === 1) return { page: 'flows' }
  if (first === 'flows' && second !== undefined && parts.length === 2) return { page: 'flow', id: second }
  if (first === 'editor' && parts.length === 1) return { page: 'editor' }
  if (first === 'tasks' && parts.length === 1) return { page: 'tasks' }
  return { page: 'not-found' }
}

export const href = {
  executions: (search = ''): string => `${BASE}/${search}`,
  execution: (id: string): string => `${BASE}/executions/${encodeURIComponent(id)}`,
  flows: (): string => `${BASE}/flows`,
  flow: (id: string, version?: number): string => `${BASE}/flows/${encodeURIComponent(id)}${version === undefined ? '' : `?version=${version}`}`,
  editor: (flowId?: string, version?: number): string =>
    `${BASE}/editor${flowId === undefined ? '' : `?flow=${encodeURIComponent(flowId)}${version === undefined ? '' : `&version=${version}`}`}`,
  tasks: (): string => `${BASE}/tasks`,
}

const listeners = new Set<() => void>()

/** Moves to a UI path without a reload. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return
  if (options.replace === true) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  for (const listener of listeners) listener()
  window.scrollTo(0, 0)
}

/** The current location; re-renders on navigation and back/forward. */
export function useLocation(): { pathname: string; search: URLSearchParams } {
  const [, setTick] = useState(0)
  useEffect(() => {
    const update = (): void => setTick((t) => t + 1)
    listeners.add(update)
    window.addEventListener('popstate', update)
    return () => {
      listeners.delete(update)
      window.removeEventListener('popstate', update)
    }
  }, [])
  return { pathname: location.pathname, search: new URLSearchParams(location.search) }
}

/** Links inside the UI navigate without a reload; modified clicks (new tab) keep the browser's behaviour. */
export function onLinkClick(event: React.MouseEvent<HTMLAnchorElement>): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  const target = event.currentTarget
  if (target.target !== '' || target.origin !== location.origin || !target.pathname.startsWith(BASE)) return
  event.preventDefault()
  navigate(target.pathname + target.search)
}
