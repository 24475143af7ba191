import type { FlowTask, TaskRunView } from '../api.js'
import { Link } from '../components.js'
import { formatMs } from '../format.js'
import { href } from '../router.js'
import { retryPending, type RunIndex } from '../runs.js'
import { maxAttemptsOf, parkedWait, retryText, waitText } from '../waits.js'

/** Maps times (epoch ms) to a share of the track's width, in percent. */
export interface Scale {
  readonly start: number
  readonly end: number
  readonly now: number
}
const at = (scale: Scale, t: number): number => ((Math.min(Math.max(t, scale.start), scale.end) - scale.start) / Math.max(1, scale.end - scale.start)) * 100
const place = (scale: Scale, from: number, to: number): React.CSSProperties => {
  const left = at(scale, from)
  return { left: `${left}%`, width: `max(2px, ${Math.max(0, at(scale, to) - left)}%)` }
}

/** Where a note about a wait goes: after its point, or before it near the right edge, so that it is never cut. */
const noteAt = (scale: Scale, t: number): { className: string; style: React.CSSProperties } => {
  const x = at(scale, t)
  return x > 55 ? { className: 'fm-wait-note before', style: { right: `${100 - x}%` } } : { className: 'fm-wait-note', style: { left: `${x}%` } }
}

const WORD: Record<TaskRunView['status'], string> = { running: 'running', waiting: 'waiting', success: 'succeeded', failure: 'failed', interrupted: 'interrupted' }

function describe(run: TaskRunView, now: number): string {
  const took = run.duration_ms ?? now - Date.parse(run.started_at)
  const where = run.item_index !== null ? ` · item ${run.item_index}` : run.branch !== null ? ` · branch ${run.branch}` : ''
  const error = run.error === null ? '' : `: ${run.error}`
  return `${run.task_name}${where} · run ${run.seq}, attempt ${run.attempt} · ${WORD[run.status]}${run.status === 'running' || run.status === 'waiting' ? ' for' : ' in'} ${formatMs(took)}${error}`
}

/**
 * One run's marks on its row: a bar from its start to its end (or now), a parked run's wait up to
 * now, and after a failed attempt with a planned retry, the wait until the next attempt (dashed
 * while it is still to come, with a live countdown).
 */
export function RunMarks(props: { run: TaskRunView; next: TaskRunView | undefined; task: FlowTask | undefined; index: RunIndex; ended: boolean; scale: Scale; note: boolean }): React.JSX.Element {
  const { run, next, scale } = props
  const now = scale.now
  const start = Date.parse(run.started_at)
  const end = run.finished_at === null ? now : Date.parse(run.finished_at)
  const marks: React.JSX.Element[] = []
  const parked = run.status === 'waiting' ? parkedWait(run) : undefined
  if (parked !== undefined) {
    const text = waitText(parked, now)
    marks.push(<div key="wait" className={`fm-wait kind-${parked.kind} pending`} style={place(scale, start, now)} data-seq={run.seq} data-task={run.task_name} title={`${run.task_name}: ${text}`} role="img" aria-label={`${run.task_name}: ${text}`} />)
    if (props.note) {
      marks.push(
        <span key="note" {...noteAt(scale, now)}>
          {parked.kind === 'child' ? (
            <>
              waiting for child execution <Link to={href.execution(parked.executionId)}>{parked.executionId.slice(0, 13)}…</Link>
            </>
          ) : (
            text
          )}
        </span>,
      )
    }
  } else {
    const text = describe(run, now)
    marks.push(<div key="run" className={`fm-bar status-${run.status}`} style={place(scale, start, end)} data-seq={run.seq} data-task={run.task_name} data-attempt={run.attempt} title={text} role="img" aria-label={text} />)
  }
  if (run.status === 'failure' && run.retry_at !== null && run.finished_at !== null) {
    const retryAt = Date.parse(run.retry_at)
    const pending = retryPending(run, props.index, props.ended, next)
    if (next !== undefined && next.attempt > run.attempt) {
      const text = `waited ${formatMs(Date.parse(next.started_at) - end)} before attempt ${next.attempt}`
      marks.push(<div key="retry" className="fm-wait kind-retry" style={place(scale, end, Date.parse(next.started_at))} title={text} role="img" aria-label={text} />)
    } else if (pending) {
      const wait = { at: run.retry_at, attempt: run.attempt + 1, maxAttempts: maxAttemptsOf(props.task) }
      const text = retryText(wait, now)
      marks.push(<div key="retry" className="fm-wait kind-retry pending" style={place(scale, end, Math.max(retryAt, now))} data-task={run.task_name} title={text} role="img" aria-label={`${run.task_name}: ${text}`} />)
      if (props.note) {
        marks.push(
          <span key="note" {...noteAt(scale, end)}>
            {text}
          </span>,
        )
      }
    }
  }
  return <>{marks}</>
}

/** A span over a branch's or a folded row's runs. */
export function SpanMark({ span, scale, label }: { span: { start: number; end: number | null }; scale: Scale; label: string }): React.JSX.Element | null {
  if (!Number.isFinite(span.start)) return null
  return <div className="fm-span" style={place(scale, span.start, span.end ?? scale.now)} title={label} />
}

/** Time marks along the top: 0, then round steps (1, 2 or 5 × a power of ten) across the span. */
export function Axis({ scale }: { scale: Scale }): React.JSX.Element {
  const span = Math.max(1, scale.end - scale.start)
  const rough = span / 6
  const power = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? power * 10
  const ticks: number[] = []
  for (let t = 0; t <= span; t += step) ticks.push(t)
  return (
    <div className="fm-wf-axis" aria-hidden="true">
      {ticks.map((t) => (
        <span key={t} style={{ left: `${(t / span) * 100}%` }}>
          {tickText(t, step, span)}
        </span>
      ))}
    </div>
  )
}

/** "250 ms" on a short span; "1.5 s", "20 s", "2 min 30 s", "1 h 5 min" on longer ones. */
function tickText(ms: number, step: number, span: number): string {
  if (span < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${+(ms / 1000).toFixed(step < 1000 ? 1 : 0)} s`
  const m = Math.floor(ms / 60_000)
  const s = Math.round((ms % 60_000) / 1000)
  return m < 60 ? `${m} min${s === 0 ? '' : ` ${s} s`}` : `${Math.floor(m / 60)} h ${m % 60} min`
}
