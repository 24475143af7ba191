import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { api, query, type ExecutionSummary, type FlowSummary, type Page } from '../api.js'
import { ErrorBox, Link, StatusBadge, useLoad, useTitle } from '../components.js'
import { elapsed, formatMs, formatTime, useNow } from '../format.js'
import { href, navigate, useLocation } from '../router.js'
import { followExecutions, type ExecutionChange } from '../sse.js'
import { FILTER_NAMES, FilterBar, hasFilters, matchesFilters, readFilters, type ExecutionFilters } from './execution-filters.js'

const PAGE_SIZE = 25
/** Newly created executions shown above the first page, at most; beyond, the oldest of them give way. */
const MAX_NEW_ROWS = PAGE_SIZE

/** A row: the listed summary, or one the list stream told (without the input, which the list does not show). */
type Row = Omit<ExecutionSummary, 'input'>

/**
 * The changes the list stream told since the page was read: the latest per execution, and the
 * rows on screen re-rendered once per frame however many arrive.
 */
function useLiveChanges(onReset: () => void): {
  changes: ReadonlyMap<string, ExecutionChange>
  clear: () => void
  forget: (seen: readonly ExecutionChange[], shown: ReadonlySet<string>) => void
} {
  const changes = useRef(new Map<string, ExecutionChange>())
  const [, setVersion] = useState(0)
  const resetRef = useRef(onReset)
  resetRef.current = onReset
  useEffect(() => {
    const controller = new AbortController()
    let frame = 0
    void followExecutions(
      {
        onChange(change) {
          const known = changes.current.get(change.execution_id)
          if (known !== undefined && known.event_seq >= change.event_seq) return
          changes.current.set(change.execution_id, change)
          if (frame === 0) frame = requestAnimationFrame(() => ((frame = 0), setVersion((v) => v + 1)))
        },
        onReset: () => resetRef.current(),
      },
      controller.signal,
    )
    return () => {
      controller.abort()
      cancelAnimationFrame(frame)
    }
  }, [])
  const clear = useCallback(() => changes.current.clear(), [])
  // Only what is on screen is kept: the stream tells every execution's changes, for hours maybe.
  // A change that a render saw and did not show is forgotten; one that came after is kept for the next.
  const forget = useCallback((seen: readonly ExecutionChange[], shown: ReadonlySet<string>) => {
    for (const change of seen) {
      if (!shown.has(change.execution_id) && changes.current.get(change.execution_id) === change) changes.current.delete(change.execution_id)
    }
  }, [])
  return { changes: changes.current, clear, forget }
}

/** The page's rows with the stream's changes applied, and on the first page the new executions that match, newest first. */
function mergeRows(items: readonly ExecutionSummary[], changes: ReadonlyMap<string, ExecutionChange>, filters: ExecutionFilters, firstPage: boolean): Row[] {
  const listed = new Set(items.map((e) => e.execution_id))
  const rows: Row[] = items.map((e) => {
    const change = changes.get(e.execution_id)
    return change === undefined ? e : { ...change, input: e.input }
  })
  if (!firstPage) return rows
  const newest = items[0]?.created_at ?? ''
  const added = [...changes.values()]
    .filter((c) => !listed.has(c.execution_id) && c.created_at >= newest && matchesFilters(c, filters))
    .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.execution_id < b.execution_id ? 1 : -1))
    .slice(0, MAX_NEW_ROWS)
  return [...added, ...rows]
}

/**
 * Executions, newest first, filtered by status, flow, id prefix and creation time. Live without
 * polling: one list-level event stream (GET /api/v1/events) updates the rows on screen and adds
 * new executions that match the filters to the first page.
 */
export function ExecutionsPage(): React.JSX.Element {
  useTitle('Executions')
  const { search } = useLocation()
  const filters = readFilters(search)
  const filterKey = FILTER_NAMES.map((name) => filters[name]).join('\u0000')
  const [cursors, setCursors] = useState<string[]>([])
  const cursor = cursors[cursors.length - 1]
  useEffect(() => setCursors([]), [filterKey])

  const [generation, setGeneration] = useState(0)
  const live = useLiveChanges(() => setGeneration((g) => g + 1))
  const list = useLoad(
    (signal) => {
      // Changes told from now on are applied over what this read answers.
      live.clear()
      return api<Page<ExecutionSummary>>(
        `/api/v1/executions${query({ limit: PAGE_SIZE, cursor, status: filters.status, flow_id: filters.flow_id, id_prefix: filters.id_prefix, created_after: filters.created_after, created_before: filters.created_before, parent_execution_id: filters.parent_execution_id })}`,
        { signal },
      )
    },
    [filterKey, cursor, generation],
  )
  const flows = useLoad((signal) => api<Page<FlowSummary>>('/api/v1/flows?limit=500', { signal }), [])

  const firstPage = cursor === undefined
  const seen = [...live.changes.values()]
  const rows = mergeRows(list.data?.items ?? [], live.changes, filters, firstPage)
  // After every render (one per frame at most while changes arrive), forget what it did not show.
  const { forget } = live
  useEffect(() => forget(seen, new Set(rows.map((e) => e.execution_id))))
  const running = rows.some((e) => e.status === 'running' || e.status === 'pending')
  const now = useNow(running)
  const setFilters = (next: Partial<ExecutionFilters>): void => {
    const params = new URLSearchParams(search)
    for (const [name, value] of Object.entries(next)) {
      if (value === '') params.delete(name)
      else params.set(name, value)
    }
    const text = params.toString()
    navigate(href.executions(text === '' ? '' : `?${text}`), { replace: true })
  }
  const flowItems = useMemo(() => flows.data?.items ?? [], [flows.data])

  return (
    <section className="fm-page">
      <header className="fm-page-head">
        <h1>Executions</h1>
        <Link to={href.editor()} className="fm-button primary">
          New flow
        </Link>
      </header>
      <FilterBar filters={filters} flows={flowItems} onChange={setFilters} />
      <ErrorBox error={list.error} />
      {list.data !== undefined && rows.length === 0 ? (
        <p className="fm-empty">
          No executions{hasFilters(filters) ? ' match these filters' : ' yet'}. Run a flow from <Link to={href.flows()}>Flows</Link> or the{' '}
          <Link to={href.editor()}>editor</Link>.
        </p>
      ) : null}
      {rows.length > 0 ? <ExecutionTable rows={rows} now={now} busy={list.loading} /> : null}
      <nav className="fm-pager" aria-label="Pages">
        <button type="button" className="fm-button" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ← Newer
        </button>
        <span className="fm-muted">Page {cursors.length + 1}</span>
        <button
          type="button"
          className="fm-button"
          disabled={list.data?.next_cursor == null}
          onClick={() => {
            const next = list.data?.next_cursor
            if (next != null) setCursors((c) => [...c, next])
          }}
        >
          Older →
        </button>
      </nav>
    </section>
  )
}

function ExecutionTable({ rows, now, busy }: { rows: readonly Row[]; now: number; busy: boolean }): React.JSX.Element {
  return (
    <table className="fm-table fm-executions" aria-busy={busy}>
      <thead>
        <tr>
          <th scope="col">Status</th>
          <th scope="col">Execution</th>
          <th scope="col">Flow</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
          <th scope="col">Note</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((e) => (
          <tr key={e.execution_id} data-execution={e.execution_id} data-status={e.status}>
            <td data-label="Status">
              <StatusBadge status={e.status} />
            </td>
            <td data-label="Execution">
              <Link to={href.execution(e.execution_id)} className="fm-mono">
                {e.execution_id}
              </Link>
            </td>
            <td data-label="Flow">
              {e.flow_version === null ? (
                <span title="an inline flow">{e.flow_id}</span>
              ) : (
                <Link to={href.flow(e.flow_id, e.flow_version)}>
                  {e.flow_id} <span className="fm-muted">v{e.flow_version}</span>
                </Link>
              )}
            </td>
            <td data-label="Started">{formatTime(e.started_at ?? e.created_at)}</td>
            <td data-label="Duration" className="fm-duration">
              {formatMs(e.duration_ms ?? (e.status === 'running' ? elapsed(e.started_at, null, now) : null))}
            </td>
            <td data-label="Note" className="fm-note">
              {e.parent_execution_id !== null ? (
                <span className="fm-sub-of">
                  ↳ sub-flow of <Link to={href.execution(e.parent_execution_id)}>{e.parent_execution_id.slice(0, 13)}…</Link>
                  {e.parent_task === null ? '' : ` (${e.parent_task})`}{' '}
                </span>
              ) : null}
              {e.failed_task !== null ? `${e.failed_task}: ` : ''}
              {e.error?.message ?? ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
