import { useId, useState } from 'react'
import { api, executionPath, type ExecutionView } from '../api.js'
import { ErrorBox, JsonBlock, Link, StatusBadge } from '../components.js'
import { elapsed, formatMs, formatTime, useNow } from '../format.js'
import { href } from '../router.js'

/** An execution's status, facts and actions: cancel while it runs; resume, as it was or with a new input, when it failed. */
export function ExecutionHeader({ view, onChanged }: { view: ExecutionView; onChanged: () => void }): React.JSX.Element {
  const running = view.status === 'running' || view.status === 'pending'
  const now = useNow(running)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const [newInput, setNewInput] = useState<string | undefined>(undefined)
  const inputId = useId()
  const act = async (action: 'cancel' | 'resume', input?: string): Promise<void> => {
    setBusy(true)
    setError(undefined)
    try {
      let body: unknown = action === 'cancel' ? {} : { wait: false }
      if (action === 'resume' && input !== undefined) body = { wait: false, input: JSON.parse(input) as unknown }
      await api(`${executionPath(view.execution_id)}/${action}`, { method: 'POST', body })
      setNewInput(undefined)
      onChanged()
    } catch (e) {
      setError(e instanceof SyntaxError ? new Error(`The new input is not JSON: ${e.message}`) : e)
    } finally {
      setBusy(false)
    }
  }
  // Only a failure in a task can be resumed (from that task); a condition's error cannot.
  const resumable = view.status === 'failed' && view.failed_task !== null
  const from = view.failed_task === null ? '' : ` from ${view.failed_task}`
  return (
    <header className="fm-execution-head">
      <div className="fm-page-head">
        <h1>
          <StatusBadge status={view.status} /> <span className="fm-mono">{view.execution_id}</span>
        </h1>
        <div className="fm-actions">
          {running ? (
            <button type="button" className="fm-button danger" disabled={busy} onClick={() => void act('cancel')}>
              Cancel
            </button>
          ) : null}
          {resumable ? (
            <>
              <button type="button" className="fm-button primary" disabled={busy} onClick={() => void act('resume')}>
                Resume{from}
              </button>
              <button
                type="button"
                className="fm-button"
                disabled={busy}
                aria-expanded={newInput !== undefined}
                aria-controls={inputId}
                onClick={() => setNewInput((text) => (text === undefined ? JSON.stringify(view.input, null, 2) : undefined))}
              >
                Resume with a new input…
              </button>
            </>
          ) : null}
        </div>
      </div>
      {resumable && newInput !== undefined ? (
        <form
          id={inputId}
          className="fm-resume-form"
          onSubmit={(event) => {
            event.preventDefault()
            void act('resume', newInput)
          }}
        >
          <label className="fm-stack">
            New input (JSON), from the resumed task on; it starts as the execution's input
            <textarea className="fm-code" rows={Math.min(12, Math.max(3, newInput.split('\n').length))} value={newInput} onChange={(e) => setNewInput(e.target.value)} spellCheck={false} />
          </label>
          <div className="fm-actions">
            <button type="submit" className="fm-button primary" disabled={busy}>
              Resume{from} with this input
            </button>
            <button type="button" className="fm-button" onClick={() => setNewInput(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      <dl className="fm-facts">
        <div>
          <dt>Flow</dt>
          <dd>
            {view.flow_version === null ? (
              <span>{view.flow_id} (inline)</span>
            ) : (
              <Link to={href.flow(view.flow_id, view.flow_version)}>
                {view.flow_id} v{view.flow_version}
              </Link>
            )}
          </dd>
        </div>
        {view.parent_execution_id !== null ? (
          <div>
            <dt>Sub-flow of</dt>
            <dd className="fm-parent">
              <Link to={href.execution(view.parent_execution_id)}>{view.parent_execution_id}</Link>
              {view.parent_task === null ? null : <span className="fm-muted"> (task {view.parent_task})</span>}
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Started</dt>
          <dd>{formatTime(view.started_at ?? view.created_at)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd className="fm-duration">{formatMs(view.duration_ms ?? (running ? elapsed(view.started_at, null, now) : null))}</dd>
        </div>
        <div>
          <dt>Task runs</dt>
          <dd>{view.task_run_count}</dd>
        </div>
      </dl>
      {view.error !== null ? (
        <p className="fm-error" role="status">
          {view.failed_task !== null ? <strong>{view.failed_task}: </strong> : null}
          {view.error.message} <span className="fm-muted">({view.error.code})</span>
        </p>
      ) : null}
      <details className="fm-details">
        <summary>Execution input</summary>
        <JsonBlock value={view.input} label="Execution input" />
      </details>
      <ErrorBox error={error} />
    </header>
  )
}
