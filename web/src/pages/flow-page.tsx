import { useEffect, useMemo, useState } from 'react'
import { api, flowPath, parseInputText, query, startExecution, type ExecutionSummary, type FlowView, type Page } from '../api.js'
import { ErrorBox, JsonBlock, Link, StatusBadge, useLoad, useTitle } from '../components.js'
import { formatMs, formatTime } from '../format.js'
import { FlowGraph } from '../graph/flow-graph.js'
import { preloadLayout } from '../graph/layout.js'
import { flowGraph } from '../graph/model.js'
import { href, navigate, useLocation } from '../router.js'

/** A registered flow: its versions, the graph of one, a way to run it, and its latest executions. */
export function FlowPage({ id }: { id: string }): React.JSX.Element {
  useTitle(`Flow ${id}`)
  useEffect(preloadLayout, [])
  const { search } = useLocation()
  const asked = search.get('version')
  const version = asked === null ? undefined : Number(asked)
  const latest = useLoad((signal) => api<FlowView>(flowPath(id), { signal }), [id])
  const shown = useLoad((signal) => api<FlowView>(flowPath(id, version), { signal }), [id, version])
  const executions = useLoad((signal) => api<Page<ExecutionSummary>>(`/api/v1/executions${query({ flow_id: id, limit: 10 })}`, { signal }), [id])
  const view = shown.data
  const model = useMemo(() => (view === undefined ? undefined : flowGraph(view.flow)), [view])
  const versions = latest.data === undefined ? [] : Array.from({ length: latest.data.version }, (_, i) => latest.data!.version - i)

  return (
    <section className="fm-page fm-flow">
      <header className="fm-page-head">
        <h1>
          <span className="fm-mono">{id}</span> {view !== undefined ? <span className="fm-muted">v{view.version}</span> : null}
        </h1>
        <div className="fm-actions">
          {versions.length > 0 ? (
            <label>
              Version{' '}
              <select value={view?.version ?? ''} onChange={(e) => navigate(href.flow(id, Number(e.target.value)), { replace: true })}>
                {versions.map((v) => (
                  <option key={v} value={v}>
                    v{v}
                    {v === latest.data?.version ? ' (latest)' : ''}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          {view !== undefined ? (
            <Link to={href.editor(id, view.version)} className="fm-button">
              Edit a copy
            </Link>
          ) : null}
        </div>
      </header>
      <ErrorBox error={shown.error ?? latest.error} />
      {view !== undefined ? (
        <p>
          {view.name}
          {view.description !== null ? <span className="fm-muted"> — {view.description}</span> : null}{' '}
          <span className="fm-muted small">registered {formatTime(view.created_at)}</span>
        </p>
      ) : null}
      <div className="fm-execution-body">
        <div className="fm-graph-panel">{model !== undefined ? <FlowGraph model={model} label={`Graph of flow ${id}`} /> : null}</div>
        <aside className="fm-side">
          {view !== undefined ? <RunFlow view={view} /> : null}
          <section>
            <h2>Latest executions</h2>
            <ErrorBox error={executions.error} />
            {executions.data?.items.length === 0 ? <p className="fm-muted">None yet.</p> : null}
            <ul className="fm-plain-list">
              {executions.data?.items.map((e) => (
                <li key={e.execution_id}>
                  <StatusBadge status={e.status} />{' '}
                  <Link to={href.execution(e.execution_id)} className="fm-mono">
                    {e.execution_id}
                  </Link>{' '}
                  <span className="fm-muted small">
                    v{e.flow_version} · {formatTime(e.started_at ?? e.created_at)} · {formatMs(e.duration_ms)}
                  </span>
                </li>
              ))}
            </ul>
            <Link to={href.executions(`?flow_id=${encodeURIComponent(id)}`)}>All executions of this flow</Link>
          </section>
          {view !== undefined ? (
            <details className="fm-details">
              <summary>Definition (JSON)</summary>
              <JsonBlock value={{ flow: view.flow }} label="Flow definition" />
            </details>
          ) : null}
        </aside>
      </div>
    </section>
  )
}

function RunFlow({ view }: { view: FlowView }): React.JSX.Element {
  const [input, setInput] = useState('{}')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const run = async (): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      const started = await startExecution(view.id, view.version, parseInputText(input))
      navigate(href.execution(started.execution_id))
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return (
    <form
      className="fm-run-panel"
      onSubmit={(event) => {
        event.preventDefault()
        void run()
      }}
    >
      <h2>Run v{view.version}</h2>
      <label className="fm-stack">
        Input (JSON)
        <textarea className="fm-code" rows={3} value={input} onChange={(e) => setInput(e.target.value)} spellCheck={false} />
      </label>
      <button type="submit" className="fm-button primary" disabled={busy}>
        Run
      </button>
      <ErrorBox error={error} />
    </form>
  )
}
