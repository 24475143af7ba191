import { useMemo, useState } from 'react'
import type { FlowTask } from '../api.js'
import { Link } from '../components.js'
import { formatMs, formatTime, useNow } from '../format.js'
import { href } from '../router.js'
import type { IdentifiedEvent, WireEvent } from '../sse.js'
import { attemptText, counts, maxAttemptsOf, waitText, type Wait } from '../waits.js'

/** Events shown at first; a long history (a for_each over thousands of items) shows its latest ones. */
const SHOWN = 400

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined)
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined)

/** What the log says about each run: its task, and the attempts started, so that a planned retry knows when it came. */
interface RunFacts {
  readonly taskOf: ReadonlyMap<number, string>
  /** `${attempt chain key}#${attempt}` of every attempt started. */
  readonly started: ReadonlySet<string>
  readonly chainOf: ReadonlyMap<number, string>
}

function factsOf(events: readonly IdentifiedEvent[]): RunFacts {
  const taskOf = new Map<number, string>()
  const chainOf = new Map<number, string>()
  const started = new Set<string>()
  for (const { event } of events) {
    const seq = num(event.seq)
    if (event.type !== 'task_started' || seq === undefined || event.task_name === null) continue
    // Attempts of one task at one place (branch, item) form a chain.
    const chain = `${event.task_name}|${num(event.parent_seq) ?? ''}|${text(event.branch) ?? ''}|${num(event.item) ?? ''}`
    taskOf.set(seq, event.task_name)
    chainOf.set(seq, chain)
    started.add(`${chain}#${String(num(event.attempt) ?? 1)}`)
  }
  return { taskOf, started, chainOf }
}

function waitOfEvent(event: WireEvent): Wait | undefined {
  const w = event.waiting_for as { timer?: unknown; signal?: unknown; timeout_at?: unknown; child?: unknown } | null | undefined
  if (w === null || w === undefined) return undefined
  if (typeof w.timer === 'string') return { kind: 'timer', until: w.timer }
  if (typeof w.signal === 'string') return { kind: 'signal', signal: w.signal, timeoutAt: text(w.timeout_at) }
  if (typeof w.child === 'string') return { kind: 'child', executionId: w.child }
  return undefined
}

/** A wait's words, counting down live while it has a time to count to. */
function WaitWords({ wait, ended }: { wait: Wait; ended: boolean }): React.JSX.Element {
  const now = useNow(!ended && counts(wait))
  if (wait.kind === 'child') {
    return (
      <>
        waiting for child execution <Link to={href.execution(wait.executionId)}>{wait.executionId}</Link>
      </>
    )
  }
  return <>{ended && wait.kind === 'retry' ? `retry planned ${attemptText(wait.attempt, wait.maxAttempts)}` : waitText(wait, now)}</>
}

function Describe({ event, facts, tasks, ended }: { event: WireEvent; facts: RunFacts; tasks: ReadonlyMap<string, FlowTask>; ended: boolean }): React.JSX.Element {
  const task = event.task_name ?? facts.taskOf.get(num(event.seq) ?? -1)
  const item = num(event.item)
  const branch = text(event.branch)
  const where = item !== undefined ? ` item ${item}` : branch !== undefined && branch !== task ? ` (branch ${branch})` : ''
  switch (event.type) {
    case 'task_started': {
      const attempt = num(event.attempt) ?? 1
      const count = num(event.item_count)
      return <>{`started${where}${attempt > 1 ? ` ${attemptText(attempt, maxAttemptsOf(tasks.get(task ?? '')))}` : ''}${count === undefined ? '' : ` over ${count} item${count === 1 ? '' : 's'}`}`}</>
    }
    case 'task_finished': {
      const status = text(event.status) ?? ''
      const word = status === 'success' ? 'succeeded' : status === 'failure' ? 'failed' : status
      const duration = num(event.duration_ms) === undefined ? '' : ` in ${formatMs(num(event.duration_ms))}`
      const retryAt = text(event.retry_at)
      if (retryAt === undefined) return <>{`${word}${duration}`}</>
      const attempt = (num(event.attempt) ?? 1) + 1
      const max = maxAttemptsOf(tasks.get(task ?? ''))
      const chain = facts.chainOf.get(num(event.seq) ?? -1)
      if (chain !== undefined && facts.started.has(`${chain}#${attempt}`)) return <>{`${word}${duration}; retried ${attemptText(attempt, max)}`}</>
      return (
        <>
          {`${word}${duration}; `}
          <WaitWords wait={{ kind: 'retry', at: retryAt, attempt, maxAttempts: max }} ended={ended} />
        </>
      )
    }
    case 'task_waiting': {
      const wait = waitOfEvent(event)
      return wait === undefined ? <>waiting</> : <WaitWords wait={wait} ended={ended} />
    }
    case 'routed':
      return <>{`→ ${text(event.to) ?? '?'}`}</>
    case 'task_interrupted':
      return <>interrupted; it runs again</>
    case 'signal_received':
      return <>{`signal "${text(event.signal) ?? text(event.name) ?? '?'}" received`}</>
    case 'execution_queued':
      return <>queued</>
    case 'execution_started':
      return <>execution started</>
    case 'execution_resumed':
      return <>{`execution resumed${text(event.reason) === undefined ? '' : ` (${text(event.reason)})`}`}</>
    case 'cancel_requested':
      return <>cancel requested</>
    case 'execution_finished':
      return <>{`execution ${text(event.status) ?? ''}`}</>
    default:
      return <>{event.type.replaceAll('_', ' ')}</>
  }
}

function statusOf(event: WireEvent): string | undefined {
  if (event.type === 'task_finished') return text(event.retry_at) === undefined ? text(event.status) : 'retrying'
  if (event.type === 'execution_finished') return text(event.status)
  if (event.type === 'task_waiting') return 'waiting'
  if (event.type === 'task_interrupted') return 'interrupted'
  if (event.type === 'cancel_requested') return 'cancelled'
  return undefined
}

function detailOf(event: WireEvent): string | undefined {
  if (event.type === 'task_finished') return text(event.error)
  if (event.type === 'execution_finished') return text((event.error as { message?: unknown } | null | undefined)?.message)
  return undefined
}

/** The execution's event history as it streams in: what each event means, waits counting down; task events select their task. */
export function EventList(props: { events: readonly IdentifiedEvent[]; tasks: ReadonlyMap<string, FlowTask>; ended: boolean; onSelect: (task: string) => void }): React.JSX.Element {
  const { events } = props
  const [all, setAll] = useState(false)
  const facts = useMemo(() => factsOf(events), [events])
  const shown = all || events.length <= SHOWN ? events : events.slice(-SHOWN)
  return (
    <section className="fm-events" aria-labelledby="fm-events-title">
      <h2 id="fm-events-title">Events</h2>
      {events.length === 0 ? <p className="fm-muted">Waiting for events…</p> : null}
      {shown.length < events.length ? (
        <button type="button" className="fm-button small" onClick={() => setAll(true)}>
          Show the {events.length - shown.length} earlier events
        </button>
      ) : null}
      <ol aria-live="polite" aria-relevant="additions">
        {shown.map(({ id, event }) => {
          const status = statusOf(event)
          const detail = detailOf(event)
          const task = event.task_name ?? facts.taskOf.get(num(event.seq) ?? -1)
          return (
            <li key={id} className={`fm-event${status === undefined ? '' : ` status-${status}`}`} data-type={event.type} data-task={task}>
              <time dateTime={event.at}>{formatTime(event.at)}</time>{' '}
              {task !== undefined ? (
                <>
                  <button type="button" className="fm-link" onClick={() => props.onSelect(task)}>
                    {task}
                  </button>{' '}
                </>
              ) : null}
              <span className={status === undefined ? undefined : `fm-event-status status-${status}`}>
                <Describe event={event} facts={facts} tasks={props.tasks} ended={props.ended} />
              </span>
              {detail !== undefined ? <div className="fm-event-error">{detail}</div> : null}
            </li>
          )
        })}
      </ol>
    </section>
  )
}
