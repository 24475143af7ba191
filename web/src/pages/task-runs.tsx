import type { ExecutionView, FlowTask } from '../api.js'
import { JsonBlock, StatusBadge } from '../components.js'
import { elapsed, formatMs, formatTime, useNow } from '../format.js'

/** The task runs of one task in an execution: attempt, input, output, error and stack, timings. */
export function TaskRuns(props: { task: string; definition: FlowTask | undefined; execution: ExecutionView; onClose: () => void }): React.JSX.Element {
  const { task, definition, execution } = props
  const runs = execution.task_results.map((run, index) => ({ run, step: index + 1 })).filter(({ run }) => run.task_name === task)
  const now = useNow(runs.some(({ run }) => run.status === 'running'))
  // A task receives its own `input` when the flow gives one, else the execution input (SPEC §1).
  const input = definition?.input ?? execution.input
  return (
    <section className="fm-task-runs" aria-labelledby="fm-task-runs-title" data-task={task}>
      <header className="fm-section-head">
        <h2 id="fm-task-runs-title">
          Task <span className="fm-mono">{task}</span>
        </h2>
        <button type="button" className="fm-button small" onClick={props.onClose} aria-label="Close the task runs">
          ✕
        </button>
      </header>
      {definition?.description !== undefined ? <p className="fm-muted">{definition.description}</p> : null}
      <details className="fm-details">
        <summary>Input {definition?.input !== undefined ? '(from the flow definition)' : '(the execution input)'}</summary>
        <JsonBlock value={input} label={`Input of ${task}`} />
      </details>
      {runs.length === 0 ? <p className="fm-muted">No task run{isDone(execution) ? ': the execution did not reach this task.' : ' yet.'}</p> : null}
      <ol className="fm-runs">
        {runs.map(({ run, step }) => (
          <li key={step} className={`fm-run status-${run.status}`} data-attempt={run.attempt}>
            <div className="fm-run-head">
              <StatusBadge status={run.status} />
              <span>
                step {step}, attempt {run.attempt}
              </span>
              <span className="fm-muted">{run.task_type !== task ? `type ${run.task_type}` : ''}</span>
            </div>
            <dl className="fm-facts small">
              <div>
                <dt>Started</dt>
                <dd>{formatTime(run.started_at)}</dd>
              </div>
              <div>
                <dt>Finished</dt>
                <dd>{formatTime(run.finished_at)}</dd>
              </div>
              <div>
                <dt>Duration</dt>
                <dd>{formatMs(run.duration_ms ?? (run.status === 'running' ? elapsed(run.started_at, null, now) : null))}</dd>
              </div>
              <div>
                <dt>Next</dt>
                <dd>{run.next_task ?? '—'}</dd>
              </div>
            </dl>
            {run.error !== null ? (
              <div className="fm-run-error">
                <p className="fm-error">
                  {run.error} {run.error_code !== null ? <span className="fm-muted">({run.error_code})</span> : null}
                </p>
                {run.error_stack !== null ? (
                  <details className="fm-details" open>
                    <summary>Stack</summary>
                    <pre className="fm-json fm-trace" tabIndex={0}>
                      {run.error_stack}
                    </pre>
                  </details>
                ) : null}
              </div>
            ) : null}
            {run.status !== 'running' ? (
              <details className="fm-details" open={runs.length === 1}>
                <summary>Output data</summary>
                <JsonBlock value={run.data} label={`Output of ${task}, step ${step}`} />
              </details>
            ) : null}
          </li>
        ))}
      </ol>
    </section>
  )
}

const isDone = (execution: ExecutionView): boolean => ['completed', 'failed', 'cancelled'].includes(execution.status)
