import { useEffect, useMemo, useRef, useState } from 'react'
import type { ExecutionView, Flow, FlowTask } from '../api.js'
import { useNow } from '../format.js'
import { isEnded, itemProgress, itemsText, type RunIndex } from '../runs.js'
import { Axis, RunMarks, SpanMark, type Scale } from './timeline-bars.js'
import { buildRows, showRows, spanOf, type ShownRow } from './timeline-rows.js'

const ROW_HEIGHT = 28
/** Rows drawn above and below the visible ones, so that scrolling shows no blank. */
const OVERSCAN = 12

/** The time the timeline spans: from the execution's start to its end, or now and the retries still to come. */
function useScale(view: ExecutionView, index: RunIndex, now: number): Scale {
  const { first, last, future } = useMemo(() => {
    let first = Date.parse(view.started_at ?? view.created_at)
    let last = view.finished_at === null ? -Infinity : Date.parse(view.finished_at)
    let future = -Infinity
    for (const run of index.runs) {
      first = Math.min(first, Date.parse(run.started_at))
      if (run.finished_at !== null) last = Math.max(last, Date.parse(run.finished_at))
      if (run.retry_at !== null) future = Math.max(future, Date.parse(run.retry_at))
    }
    return { first, last, future }
  }, [view, index])
  const ended = isEnded(view.status)
  const end = ended ? Math.max(last, first + 1) : Math.max(now, last)
  // A retry due soon is drawn whole; a far one would squeeze everything else to a sliver.
  const upTo = !ended && future > end && future - end <= end - first ? future : end
  return { start: first, end: Math.max(upTo, first + 1), now }
}

/**
 * The timeline (waterfall) of an execution: a row per task, a bar per task run from its start to its
 * end, retries' and parked runs' waits drawn between them, a group's branches nested under it and a
 * for_each task's items under it (folded when there are many). Live while the execution runs. Rows
 * are drawn only where the list is scrolled to, so ten thousand item runs cost what a screenful does.
 */
export function Timeline(props: { view: ExecutionView; index: RunIndex; flow: Flow | undefined; selected: string | undefined; onSelect: (task: string) => void }): React.JSX.Element {
  const { view, index, flow } = props
  const ended = isEnded(view.status)
  const now = useNow(!ended)
  const scale = useScale(view, index, now)
  const rows = useMemo(() => buildRows(index.runs), [index.runs])
  const [open, setOpen] = useState<ReadonlyMap<string, boolean>>(new Map())
  const shown = useMemo(() => showRows(rows, open), [rows, open])
  const tasks = useMemo(() => new Map<string, FlowTask>((flow?.tasks ?? []).map((t) => [t.name, t])), [flow])

  const scroller = useRef<HTMLDivElement>(null)
  const [port, setPort] = useState({ top: 0, height: 600 })
  useEffect(() => {
    const element = scroller.current
    if (element === null) return
    const update = (): void => setPort({ top: element.scrollTop, height: element.clientHeight })
    update()
    const observer = new ResizeObserver(update)
    observer.observe(element)
    element.addEventListener('scroll', update, { passive: true })
    return () => {
      observer.disconnect()
      element.removeEventListener('scroll', update)
    }
  }, [])
  const first = Math.max(0, Math.floor(port.top / ROW_HEIGHT) - OVERSCAN)
  const last = Math.min(shown.length, Math.ceil((port.top + port.height) / ROW_HEIGHT) + OVERSCAN)

  return (
    <section className="fm-waterfall" aria-label={`Timeline of execution ${view.execution_id}`} data-rows={shown.length}>
      <div className="fm-wf-scroll" ref={scroller} tabIndex={-1}>
        <div className="fm-wf-head">
          <span className="fm-muted small">
            {index.runs.length} task run{index.runs.length === 1 ? '' : 's'}
            {index.partial ? ` of ${view.task_run_count}, loading the older ones…` : ''}
          </span>
          <Axis scale={scale} />
        </div>
        <div className="fm-wf-body" style={{ height: shown.length * ROW_HEIGHT }}>
          <ol className="fm-wf-rows">
            {shown.slice(first, last).map((item, i) => (
              <Row
                key={item.row.key}
                item={item}
                top={(first + i) * ROW_HEIGHT}
                scale={scale}
                index={index}
                ended={ended}
                task={tasks.get(item.row.task)}
                selected={props.selected === item.row.task}
                onSelect={props.onSelect}
                onToggle={() => setOpen((map) => new Map(map).set(item.row.key, !item.expanded))}
              />
            ))}
          </ol>
          {!ended ? <div className="fm-wf-now" style={{ left: `calc(var(--wf-label) + (100% - var(--wf-label) - 1.5rem) * ${(scale.now - scale.start) / Math.max(1, scale.end - scale.start)})` }} aria-hidden="true" /> : null}
        </div>
      </div>
    </section>
  )
}

function Row(props: {
  item: ShownRow
  top: number
  scale: Scale
  index: RunIndex
  ended: boolean
  task: FlowTask | undefined
  selected: boolean
  onSelect: (task: string) => void
  onToggle: () => void
}): React.JSX.Element {
  const { item, scale } = props
  const { row } = item
  const span = useMemo(() => (row.kind === 'branch' || (item.expandable && !item.expanded) ? spanOf(row) : undefined), [row, item.expandable, item.expanded])
  const latest = row.runs[row.runs.length - 1]
  const items = useMemo(
    () => (row.kind === 'task' && latest !== undefined && row.children.some((c) => c.kind === 'item') ? itemsText(itemProgress(latest, row.children.flatMap((c) => c.runs), props.index, props.ended)) : undefined),
    [row, latest, props.index, props.ended],
  )
  return (
    <li className={`fm-wf-row kind-${row.kind}${props.selected ? ' selected' : ''}`} style={{ top: props.top, height: ROW_HEIGHT }} data-row={row.key} data-task={row.task} data-depth={item.depth}>
      <div className="fm-wf-label" style={{ paddingLeft: `${0.3 + item.depth * 0.9}rem` }}>
        {item.expandable ? (
          <button type="button" className="fm-wf-toggle" aria-expanded={item.expanded} aria-label={`${item.expanded ? 'Fold' : 'Unfold'} ${row.label}`} onClick={props.onToggle}>
            {item.expanded ? '▾' : '▸'}
          </button>
        ) : (
          <span className="fm-wf-toggle" aria-hidden="true" />
        )}
        {row.kind === 'branch' ? (
          <span className="fm-wf-branch">{row.label}</span>
        ) : (
          <button type="button" className="fm-link fm-wf-name" onClick={() => props.onSelect(row.task)} title={`${row.label}: show its task runs`}>
            {row.label}
          </button>
        )}
        {items !== undefined ? <span className="fm-wf-items">{items}</span> : null}
      </div>
      <div className="fm-wf-track">
        {span !== undefined ? <SpanMark span={span} scale={scale} label={row.label} /> : null}
        {row.runs.map((run, i) => (
          <RunMarks key={run.seq} run={run} next={row.runs[i + 1]} task={props.task} index={props.index} ended={props.ended} scale={scale} note={i === row.runs.length - 1} />
        ))}
      </div>
    </li>
  )
}
