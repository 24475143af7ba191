import { useEffect, useMemo, useState } from 'react'
import { api, EXECUTION_STATUSES, query, type ExecutionSummary, type FlowSummary, type Page } from '../api.js'
import { ErrorBox, Link, StatusBadge, useCoalesced, useLoad, useTitle } from '../components.js'
import { elapsed, formatMs, formatTime, useNow } from '../format.js'
import { href, navigate, useLocation } from '../router.js'
import { followExecution } from '../sse.js'

const PAGE_SIZE = 25
/** How often the first page is re-read for executions started elsewhere (the API has no list-level stream). */
const REFRESH_MS = 5000
/** Event streams the list keeps open at once: browsers allow six connections per host over HTTP/1.1. */
const MAX_STREAMS = 3

/**
 * Executions, newest first, filtered by status and flow. Live without a polling storm: the running
 * executions on screen are followed through their event streams (a change reloads the page once),
 * and the first page is re-read every few seconds while the tab is visible.
 */
export function ExecutionsPage(): React.JSX.Element {
  useTitle('Executions')
  const { search } = useLocation()
  const status = search.get('status') ?? ''
  const flowId = search.get('flow_id') ?? ''
  const [cursors, setCursors] = useState<string[]>([])
  const cursor = cursors[cursors.length - 1]
  useEffect(() => setCursors([]), [status, flowId])

  const list = useLoad(
    (signal) => api<Page<ExecutionSummary>>(`/api/v1/executions${query({ limit: PAGE_SIZE, status, flow_id: flowId, cursor })}`, { signal }),
    [status, flowId, cursor],
  )
  const flows = useLoad((signal) => api<Page<FlowSummary>>('/api/v1/flows?limit=500', { signal }), [])

  const { reload } = list
  const reloadSoon = useCoalesced(reload, 250)
  const items = list.data?.items ?? []
  const live = items.filter((e) => e.status === 'running' || e.status === 'pending')
  const followed = live
    .slice(0, MAX_STREAMS)
    .map((e) => e.execution_id)
    .join(',')

  useEffect(() => {
    if (followed === '') return
    const controller = new AbortController()
    for (const id of followed.split(',')) {
      void followExecution(id, () => reloadSoon(), controller.signal)
    }
    return () => controller.abort()
  }, [followed, reloadSoon])

  const firstPage = cursor === undefined
  useEffect(() => {
    if (!firstPage) return
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload()
    }, REFRESH_MS)
    return () => clearInterval(timer)
  }, [firstPage, reload])

  const now = useNow(live.length > 0)
  const setFilter = (name: string, value: string): void => {
    const next = new URLSearchParams(search)
    if (value === '') next.delete(name)
    else next.set(name, value)
    const text = next.toString()
    navigate(href.executions(text === '' ? '' : `?${text}`), { replace: true })
  }

  return (
    <section className="fm-page">
      <header className="fm-page-head">
        <h1>Executions</h1>
        <Link to={href.editor()} className="fm-button primary">
          New flow
        </Link>
      </header>
      <FilterBar status={status} flowId={flowId} flows={flows.data?.items ?? []} onChange={setFilter} />
      <ErrorBox error={list.error} />
      {list.data !== undefined && items.length === 0 ? (
        <p className="fm-empty">
          No executions{status !== '' || flowId !== '' ? ' match these filters' : ' yet'}. Run a flow from <Link to={href.flows()}>Flows</Link> or the{' '}
          <Link to={href.editor()}>editor</Link>.
        </p>
      ) : null}
      {items.length > 0 ? (
        <table className="fm-table fm-executions" aria-busy={list.loading}>
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
            {items.map((e) => (
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
                <td data-label="Duration">{formatMs(e.duration_ms ?? (e.status === 'running' ? elapsed(e.started_at, null, now) : null))}</td>
                <td data-label="Note" className="fm-note">
                  {e.failed_task !== null ? `${e.failed_task}: ` : ''}
                  {e.error?.message ?? (e.current_task !== null && e.status === 'running' ? `at ${e.current_task}` : '')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
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

function FilterBar(props: { status: string; flowId: string; flows: readonly FlowSummary[]; onChange: (name: string, value: string) => void }): React.JSX.Element {
  const [flowText, setFlowText] = useState(props.flowId)
  useEffect(() => setFlowText(props.flowId), [props.flowId])
  const known = useMemo(() => new Set(props.flows.map((f) => f.id)), [props.flows])
  return (
    <form
      className="fm-filters"
      role="search"
      onSubmit={(event) => {
        event.preventDefault()
        props.onChange('flow_id', flowText.trim())
      }}
    >
      <label>
        Status
        <select value={props.status} onChange={(event) => props.onChange('status', event.target.value)}>
          <option value="">all</option>
          {EXECUTION_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Flow
        <input
          list="fm-flow-ids"
          value={flowText}
          placeholder="all flows"
          onChange={(event) => {
            setFlowText(event.target.value)
            if (event.target.value === '' || known.has(event.target.value)) props.onChange('flow_id', event.target.value)
          }}
        />
        <datalist id="fm-flow-ids">
          {props.flows.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
            </option>
          ))}
        </datalist>
      </label>
      <button type="submit" className="fm-button">
        Filter
      </button>
    </form>
  )
}
