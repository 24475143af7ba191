import { api, query, type ExecutionSummaryPage } from '../api.js'
import { ErrorBox, Link, StatusBadge, useLoad } from '../components.js'
import { href } from '../router.js'

/** Children listed here; the executions list, filtered by this parent, has them all. */
const LIMIT = 20

/**
 * The child executions this execution's subflow tasks started (`GET /api/v1/executions?parent_execution_id=`),
 * read again whenever `version` changes (a subflow run started or ended).
 */
export function ChildExecutions({ id, version }: { id: string; version: string }): React.JSX.Element | null {
  const children = useLoad((signal) => api<ExecutionSummaryPage>(`/api/v1/executions${query({ parent_execution_id: id, limit: LIMIT })}`, { signal }), [id, version])
  const items = children.data?.items ?? []
  if (items.length === 0 && children.error === undefined) return null
  return (
    <section className="fm-children" aria-labelledby="fm-children-title">
      <h2 id="fm-children-title">Child executions</h2>
      <ErrorBox error={children.error} />
      <ul className="fm-plain-list">
        {items.map((child) => (
          <li key={child.execution_id} data-child={child.execution_id}>
            <StatusBadge status={child.status} /> <Link to={href.execution(child.execution_id)}>{child.execution_id}</Link>{' '}
            <span className="fm-muted">
              {child.flow_id}
              {child.parent_task === null ? '' : `, from ${child.parent_task}`}
            </span>
          </li>
        ))}
      </ul>
      {children.data?.next_cursor != null ? (
        <p className="small">
          <Link to={href.executions(`?parent_execution_id=${encodeURIComponent(id)}`)}>All child executions</Link>
        </p>
      ) : null}
    </section>
  )
}
