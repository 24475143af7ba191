import type { ExecutionView, FlowTask, TaskRunView } from '../api.js'
import { Link } from '../components.js'
import { useNow } from '../format.js'
import { href } from '../router.js'
import { isEnded, waitOf, type RunIndex } from '../runs.js'
import { counts, waitText, type Wait } from '../waits.js'
import { SignalForm } from './signal-form.js'

/** Waits shown at most; an execution parked on more (a for_each of waits) says how many more. */
const MAX_SHOWN = 20

/** The runs of an execution that wait now, each with its wait: the latest attempt per task, item and branch. */
export function currentWaits(view: ExecutionView, index: RunIndex, tasks: ReadonlyMap<string, FlowTask>): { run: TaskRunView; wait: Wait }[] {
  const ended = isEnded(view.status)
  if (ended) return []
  const latest = new Map<string, TaskRunView>()
  for (const run of index.runs) latest.set(`${run.task_name}|${run.parent_seq ?? ''}|${run.branch ?? ''}|${run.item_index ?? ''}`, run)
  const out: { run: TaskRunView; wait: Wait }[] = []
  for (const run of latest.values()) {
    if (run.status !== 'waiting' && run.status !== 'failure') continue
    const wait = waitOf(run, tasks.get(run.task_name), index, ended)
    if (wait !== undefined) out.push({ run, wait })
  }
  return out
}

function WaitLine({ run, wait }: { run: TaskRunView; wait: Wait }): React.JSX.Element {
  const now = useNow(counts(wait))
  if (wait.kind === 'child') {
    return (
      <>
        waiting for child execution <Link to={href.execution(wait.executionId)}>{wait.executionId}</Link>
      </>
    )
  }
  return <>{`${waitText(wait, now)}${run.item_index === null ? '' : `, item ${run.item_index}`}`}</>
}

/**
 * What the execution waits for now, above its task runs: planned retries counting down, timers,
 * child executions (linked), and signals, each with a form to send it.
 */
export function WaitingPanel(props: { view: ExecutionView; waits: readonly { run: TaskRunView; wait: Wait }[]; onSelect: (task: string) => void; onSignalled: () => void }): React.JSX.Element | null {
  const { waits } = props
  if (waits.length === 0) return null
  return (
    <section className="fm-waiting" aria-labelledby="fm-waiting-title">
      <h2 id="fm-waiting-title">Waiting</h2>
      <ul className="fm-plain-list">
        {waits.slice(0, MAX_SHOWN).map(({ run, wait }) => (
          <li key={run.seq} className={`fm-wait-item kind-${wait.kind}`} data-task={run.task_name} data-wait={wait.kind}>
            <button type="button" className="fm-link" onClick={() => props.onSelect(run.task_name)}>
              {run.task_name}
            </button>{' '}
            <span className="fm-wait-text">
              <WaitLine run={run} wait={wait} />
            </span>
            {wait.kind === 'signal' ? <SignalForm executionId={props.view.execution_id} signal={wait.signal} onSent={props.onSignalled} /> : null}
          </li>
        ))}
      </ul>
      {waits.length > MAX_SHOWN ? <p className="fm-muted small">and {waits.length - MAX_SHOWN} more</p> : null}
    </section>
  )
}
