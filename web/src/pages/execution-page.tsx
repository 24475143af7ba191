import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { api, ApiError, executionPath, isTerminal, type ExecutionView, type Flow } from '../api.js'
import { ErrorBox, Link, useCoalesced, useLoad, useTitle } from '../components.js'
import { FlowGraph } from '../graph/flow-graph.js'
import { preloadLayout } from '../graph/layout.js'
import { executionGraph } from '../graph/model.js'
import { href, navigate, useLocation } from '../router.js'
import { followExecution, type IdentifiedEvent } from '../sse.js'
import { ExecutionHeader } from './execution-header.js'
import { TaskRuns } from './task-runs.js'
import { Timeline } from './timeline.js'

/** One execution at /ui/executions/{id}: its graph, the selected task's runs, and the event timeline, live. */
export function ExecutionPage({ id }: { id: string }): React.JSX.Element {
  useTitle(`Execution ${id}`)
  useEffect(preloadLayout, [])
  const { search } = useLocation()
  const selected = search.get('task') ?? undefined
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

  const [events, setEvents] = useState<IdentifiedEvent[]>([])
  const [generation, setGeneration] = useState(0)
  const reloadSoon = useCoalesced(execution.reload, 150)
  const loaded = view !== undefined
  const statusRef = useRef(view?.status)
  statusRef.current = view?.status
  useEffect(() => {
    if (!loaded) return
    const controller = new AbortController()
    const seen = new Set<number>()
    // A long history arrives as a burst: render it once per frame, not once per event.
    let batch: IdentifiedEvent[] = []
    let frame = 0
    const flush = (): void => {
      frame = 0
      const items = batch
      batch = []
      setEvents((list) => [...list, ...items])
    }
    setEvents([])
    void followExecution(
      id,
      (item) => {
        if (seen.has(item.id)) return
        seen.add(item.id)
        batch.push(item)
        if (frame === 0) frame = requestAnimationFrame(flush)
        // A finished execution's history needs no re-read; anything live does.
        if (statusRef.current === undefined || !isTerminal(statusRef.current) || item.event.type === 'execution_started') reloadSoon()
      },
      controller.signal,
    )
    return () => {
      controller.abort()
      cancelAnimationFrame(frame)
    }
  }, [id, loaded, generation, reloadSoon])

  const model = useMemo(() => (view === undefined ? undefined : executionGraph(definition.data, view)), [view, definition.data])
  const select = useCallback(
    (task: string | undefined) => {
      const next = new URLSearchParams(location.search)
      if (task === undefined || next.get('task') === task) next.delete('task')
      else next.set('task', task)
      const text = next.toString()
      navigate(`${href.execution(id)}${text === '' ? '' : `?${text}`}`, { replace: true })
    },
    [id],
  )

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
  const flow = definition.data
  const task = selected === undefined ? undefined : flow?.tasks.find((t) => t.name === selected)
  return (
    <section className="fm-page fm-execution" data-status={view.status}>
      <ExecutionHeader
        view={view}
        onChanged={() => {
          setGeneration((g) => g + 1)
          execution.reload()
        }}
      />
      <ErrorBox error={execution.error} />
      {flow === undefined && !definition.loading ? (
        <p className="fm-muted">The definition of this execution's flow could not be read; the graph shows the path its task runs took.</p>
      ) : null}
      <div className="fm-execution-body">
        <div className="fm-graph-panel">
          <FlowGraph model={model} selected={selected} onSelect={select} label={`Graph of execution ${id}`} />
          <Legend />
        </div>
        <aside className="fm-side" aria-label="Task runs and events">
          {selected !== undefined ? (
            <TaskRuns task={selected} definition={task} execution={view} onClose={() => select(undefined)} />
          ) : (
            <p className="fm-muted fm-hint">Select a task in the graph to see its task runs: attempts, input, output, error and timings.</p>
          )}
          <Timeline events={events} onSelect={select} />
        </aside>
      </div>
    </section>
  )
}

function Legend(): React.JSX.Element {
  const states = ['pending', 'running', 'succeeded', 'failed', 'retried', 'skipped'] as const
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
