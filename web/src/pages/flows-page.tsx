import { api, type FlowSummary, type Page } from '../api.js'
import { ErrorBox, Link, useLoad, useTitle } from '../components.js'
import { formatTime } from '../format.js'
import { href } from '../router.js'

/** The registered flows, latest version of each. */
export function FlowsPage(): React.JSX.Element {
  useTitle('Flows')
  const flows = useLoad((signal) => api<Page<FlowSummary>>('/api/v1/flows?limit=500', { signal }), [])
  const items = flows.data?.items ?? []
  return (
    <section className="fm-page">
      <header className="fm-page-head">
        <h1>Flows</h1>
        <Link to={href.editor()} className="fm-button primary">
          New flow
        </Link>
      </header>
      <ErrorBox error={flows.error} />
      {flows.data !== undefined && items.length === 0 ? (
        <p className="fm-empty">
          No flows are registered yet. Write one in the <Link to={href.editor()}>editor</Link> (it starts with the seed flow) and register or run it.
        </p>
      ) : null}
      {items.length > 0 ? (
        <table className="fm-table">
          <thead>
            <tr>
              <th scope="col">Flow</th>
              <th scope="col">Name</th>
              <th scope="col">Versions</th>
              <th scope="col">Tasks</th>
              <th scope="col">Latest registered</th>
            </tr>
          </thead>
          <tbody>
            {items.map((f) => (
              <tr key={f.id} data-flow={f.id}>
                <td data-label="Flow">
                  <Link to={href.flow(f.id)} className="fm-mono">
                    {f.id}
                  </Link>
                </td>
                <td data-label="Name">
                  {f.name}
                  {f.description !== null ? <div className="fm-muted small">{f.description}</div> : null}
                </td>
                <td data-label="Versions">{f.version}</td>
                <td data-label="Tasks">{f.task_count}</td>
                <td data-label="Latest registered">{formatTime(f.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}
