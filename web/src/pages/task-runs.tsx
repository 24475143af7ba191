import { useMemo, useState } from 'react'
import { api, executionPath, type ExecutionView, type FlowTask, type TaskRunView } from '../api.js'
import { ErrorBox, JsonBlock, Link, StatusBadge } from '../components.js'
import { elapsed, formatMs, formatTime, useNow } from '../format.js'
import { href } from '../router.js'
import { isEnded, waitOf, type RunIndex } from '../runs.js'
import { childOf, counts, maxAttemptsOf, waitText } from '../waits.js'

/** Item runs listed at first, and added per "more". */
const ITEM_PAGE = 50

/** A run's data, read alone when the execution's representation left it out to stay small. */
function RunData({ run, executionId, label }: { run: TaskRunView; executionId: string; label: string }): React.JSX.Element {
  const [loaded, setLoaded] = useState<{ data: unknown } | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  if (run.data_omitted === true && loaded === undefined) {
    return (
      <p className="fm-muted small">
        Left out of the execution's answer to keep it small.{' '}
        <button
          type="button"
          className="fm-link"
          onClick={() => void api<TaskRunView>(`${executionPath(executionId)}/task-runs/${run.seq}`).then((whole) => setLoaded({ data: whole.data }), setError)}
        >
          Load it
        </button>
        <ErrorBox error={error} />
      </p>
    )
  }
  return <JsonBlock value={loaded === undefined ? run.data : loaded.data} label={label} />
}

function RunItem(props: { run: TaskRunView; later: TaskRunView | undefined; definition: FlowTask | undefined; execution: ExecutionView; index: RunIndex; only: boolean }): React.JSX.Element {
  const { run, execution } = props
  const wait = waitOf(run, props.definition, props.index, isEnded(execution.status), props.later)
  const now = useNow(run.status === 'running' || counts(wait))
  const max = maxAttemptsOf(props.definition)
  const child = childOf(run)
  const parent = run.parent_seq === null ? undefined : props.index.bySeq.get(run.parent_seq)
  return (
    <li className={`fm-run status-${run.status}`} data-attempt={run.attempt} data-seq={run.seq}>
      <div className="fm-run-head">
        <StatusBadge status={run.status} />
        <span>
          run {run.seq}, attempt {run.attempt}
          {max !== undefined && max > 1 ? ` of ${max}` : ''}
        </span>
        {run.branch !== null && run.branch !== run.task_name ? <span className="fm-muted">in branch {run.branch}</span> : null}
        {parent !== undefined && run.branch !== null ? <span className="fm-muted">of {parent.task_name}</span> : null}
        <span className="fm-muted">{run.task_type !== run.task_name ? `type ${run.task_type}` : ''}</span>
      </div>
      {wait !== undefined ? (
        <p className="fm-run-wait" data-wait={wait.kind}>
          {wait.kind === 'child' ? 'waiting for its child execution' : waitText(wait, now)}
        </p>
      ) : null}
      {child !== undefined ? (
        <p className="fm-run-child">
          Child execution: <Link to={href.execution(child)}>{child}</Link>
        </p>
      ) : null}
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
          <dd>{formatMs(run.duration_ms ?? (run.status === 'running' || run.status === 'waiting' ? elapsed(run.started_at, null, now) : null))}</dd>
        </div>
        <div>
          <dt>Next</dt>
          <dd>{run.retry_at !== null ? 'a retry' : (run.next_task ?? '—')}</dd>
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
      {run.status !== 'running' && run.status !== 'waiting' ? (
        <details className="fm-details" open={props.only}>
          <summary>Output data</summary>
          <RunData run={run} executionId={execution.execution_id} label={`Output of ${run.task_name}, run ${run.seq}`} />
        </details>
      ) : null}
    </li>
  )
}

/** A for_each task's item runs, as a table: index, run, attempt, status, duration, error; a page at a time. */
function ItemRuns({ items }: { items: readonly TaskRunView[] }): React.JSX.Element {
  const [shown, setShown] = useState(ITEM_PAGE)
  return (
    <details className="fm-details" open={items.length <= ITEM_PAGE}>
      <summary>Item runs ({items.length})</summary>
      <div className="fm-table-scroll">
        <table className="fm-table fm-item-runs small">
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Run</th>
              <th scope="col">Status</th>
              <th scope="col">Duration</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {items.slice(0, shown).map((run) => (
              <tr key={run.seq} data-item={run.item_index}>
                <td>{run.item_index}</td>
                <td>
                  {run.seq}
                  {run.attempt > 1 ? `, attempt ${run.attempt}` : ''}
                </td>
                <td>
                  <StatusBadge status={run.status} />
                </td>
                <td>{formatMs(run.duration_ms)}</td>
                <td className="fm-note">{run.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown < items.length ? (
        <button type="button" className="fm-button small" onClick={() => setShown((n) => n + ITEM_PAGE * 4)}>
          Show more ({items.length - shown} left)
        </button>
      ) : null}
    </details>
  )
}

/** The task runs of one task in an execution: attempt, waits, input, output, error and stack, timings; a for_each task's item runs apart. */
export function TaskRuns(props: { task: string; definition: FlowTask | undefined; execution: ExecutionView; index: RunIndex; onClose: () => void }): React.JSX.Element {
  const { task, definition, execution, index } = props
  const { own, items } = useMemo(() => {
    const own: TaskRunView[] = []
    const items: TaskRunView[] = []
    for (const run of index.runs) if (run.task_name === task) (run.item_index === null ? own : items).push(run)
    return { own, items }
  }, [index, task])
  // A task receives its own `input` when the flow gives one, else the execution input.
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
      {definition?.parallel !== undefined ? (
        <p className="fm-muted small">
          A parallel group: branches start at {definition.parallel.join(', ')}; join {definition.join ?? 'all'}
          {definition.max_concurrency === undefined ? '' : `, ${definition.max_concurrency} at once`}.
        </p>
      ) : (
        <details className="fm-details">
          <summary>Input {definition?.input !== undefined ? '(from the flow definition)' : '(the execution input)'}</summary>
          <JsonBlock value={input} label={`Input of ${task}`} />
        </details>
      )}
      {definition?.for_each !== undefined ? <p className="fm-muted small">For each item of <code>{definition.for_each}</code>.</p> : null}
      {own.length === 0 ? <p className="fm-muted">No task run{isEnded(execution.status) ? ': the execution did not reach this task.' : ' yet.'}</p> : null}
      <ol className="fm-runs">
        {own.map((run, i) => (
          <RunItem key={run.seq} run={run} later={own[i + 1]} definition={definition} execution={execution} index={index} only={own.length === 1} />
        ))}
      </ol>
      {items.length > 0 ? <ItemRuns items={items} /> : null}
    </section>
  )
}
