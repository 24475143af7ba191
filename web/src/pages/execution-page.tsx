import { lazy, Suspense, useCallback, useEffect, useMemo } from 'react'
import { api, ApiError, executionPath, isTerminal, type ExecutionView, type Flow, type FlowTask } from '../api.js'
import { ErrorBox, Link, useCoalesced, useLoad, useTitle } from '../components.js'
import { FlowGraph } from '../graph/flow-graph.js'
import { preloadLayout } from '../graph/layout.js'
import { executionGraph, NODE_STATES } from '../graph/model.js'
import { href, navigate, useLocation } from '../router.js'
import { ChildExecutions } from './child-executions.js'
import { EventList } from './event-list.js'
import { ExecutionHeader } from './execution-header.js'
import { TaskRuns } from './task-runs.js'
import { useExecutionEvents } from './use-execution-events.js'
import { useRunIndex } from './use-run-index.js'
import { currentWaits, WaitingPanel } from './waiting-panel.js'

/** The timeline is a chunk of its own, fetched when its tab is first opened (or hovered). */
const loadTimeline = () => import('./timeline.js')
const Timeline = lazy(() => loadTimeline().then((m) => ({ default: m.Timeline })))
const preloadTimeline = (): void => void loadTimeline()

const VIEWS = [
  { id: 'graph', label: 'Graph' },
  { id: 'timeline', label: 'Timeline' },
] as const

/**
 * One execution at /ui/executions/{id}: its graph or its timeline, what it waits for, the selected
 * task's runs, its child executions and its event log, all live.
 */
export function ExecutionPage({ id }: { id: string }): React.JSX.Element {
  useTitle(`Execution ${id}`)
  useEffect(preloadLayout, [])
  const { search } = useLocation()
  const selected = search.get('task') ?? undefined
  const shown = search.get('view') === 'timeline' ? 'timeline' : 'graph'
  const execution = useLoad((signal) => api<ExecutionView>(executionPath(id), { signal }), [id])
  const view = execution.data
  const definition = useLoad(
    async (signal): Promise<Flow | undefined> => {
      if (view === undefined) return undefined
      // The definition the execution runs, inline flows included.
      return (await api<{ flow: Flow }>(`${executionPath(id)}/flow`, { signal })).flow
    },
    [id, view?.flow_id, view?.flow_version],
  )
  // Large executions are read again less often: each read carries up to 1,000 runs.
  const reloadSoon = useCoalesced(execution.reload, (view?.task_run_count ?? 0) > 1000 ? 1000 : 150)
  const { events, reopen } = useExecutionEvents(id, view, reloadSoon)
  const index = useRunIndex(id, view, events)
  const flow = definition.data
  const tasks = useMemo(() => new Map<string, FlowTask>((flow?.tasks ?? []).map((t) => [t.name, t])), [flow])
  const model = useMemo(() => (view === undefined ? undefined : executionGraph(flow, view, index)), [view, flow, index])
  const waits = useMemo(() => (view === undefined ? [] : currentWaits(view, index, tasks)), [view, index, tasks])
  // The child list is read again when a subflow run starts or ends.
  const subflows = index.runs.filter((r) => r.task_type === 'subflow').map((r) => `${r.seq}:${r.status}`).join(',')

  const setParam = useCallback(
    (name: string, value: string | undefined) => {
      const next = new URLSearchParams(location.search)
      if (value === undefined) next.delete(name)
      else next.set(name, value)
      const text = next.toString()
      navigate(`${href.execution(id)}${text === '' ? '' : `?${text}`}`, { replace: true })
    },
    [id],
  )
  const select = useCallback((task: string | undefined) => setParam('task', task === undefined || new URLSearchParams(location.search).get('task') === task ? undefined : task), [setParam])

  if (execution.error instanceof ApiError && execution.error.status === 404) {
    return (
      <section className="fm-page">
        <h1>Execution not found</h1>
        <p>
          No execution <code>{id}</code>. See the <Link to={href.executions()}>executions</Link>.
        </p>
      </section>
    )
  }
  if (view === undefined || model === undefined) {
    return (
      <section className="fm-page">
        <h1>Execution</h1>
        <ErrorBox error={execution.error} />
        {execution.error === undefined ? <p className="fm-muted">Loading…</p> : null}
      </section>
    )
  }
  const task = selected === undefined ? undefined : tasks.get(selected)
  return (
    <section className="fm-page fm-execution" data-status={view.status}>
      <ExecutionHeader
        view={view}
        onChanged={() => {
          reopen()
          execution.reload()
        }}
      />
      <ErrorBox error={execution.error} />
      {flow === undefined && !definition.loading ? (
        <p className="fm-muted">The definition of this execution's flow could not be read; the graph shows the path its task runs took.</p>
      ) : null}
      <div className="fm-execution-body">
        <div className="fm-graph-panel">
          <div className="fm-tabs" role="tablist" aria-label="Show the execution as">
            {VIEWS.map((v) => (
              <button
                key={v.id}
                type="button"
                role="tab"
                aria-selected={shown === v.id}
                className="fm-tab"
                onClick={() => setParam('view', v.id === 'graph' ? undefined : v.id)}
                {...(v.id === 'timeline' ? { onPointerEnter: preloadTimeline, onFocus: preloadTimeline } : {})}
              >
                {v.label}
              </button>
            ))}
          </div>
          {shown === 'graph' ? (
            <>
              <FlowGraph model={model} selected={selected} onSelect={select} label={`Graph of execution ${id}`} />
              <Legend />
            </>
          ) : (
            <Suspense fallback={<p className="fm-muted">Loading the timeline…</p>}>
              <Timeline view={view} index={index} flow={flow} selected={selected} onSelect={select} />
            </Suspense>
          )}
        </div>
        <aside className="fm-side" aria-label="Waits, task runs and events">
          <WaitingPanel view={view} waits={waits} onSelect={select} onSignalled={reloadSoon} />
          {selected !== undefined ? (
            <TaskRuns task={selected} definition={task} execution={view} index={index} onClose={() => select(undefined)} />
          ) : (
            <p className="fm-muted fm-hint">Select a task in the graph or the timeline to see its task runs: attempts, waits, input, output, error and timings.</p>
          )}
          {subflows !== '' ? <ChildExecutions id={id} version={subflows} /> : null}
          <EventList events={events} tasks={tasks} ended={isTerminal(view.status)} onSelect={select} />
        </aside>
      </div>
    </section>
  )
}

function Legend(): React.JSX.Element {
  const states = NODE_STATES.filter((s) => s !== 'idle' && s !== 'interrupted')
  return (
    <ul className="fm-legend" aria-label="Legend">
      {states.map((s) => (
        <li key={s} className={`state-${s}`}>
          <span className="fm-swatch" aria-hidden="true" /> {s}
        </li>
      ))}
      <li className="fm-legend-path">
        <span className="fm-swatch-line" aria-hidden="true" /> path taken
      </li>
    </ul>
  )
}
