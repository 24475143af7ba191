import { useEffect, useMemo, useState } from 'react'
import { EXECUTION_STATUSES, type ExecutionSummary, type FlowSummary } from '../api.js'

/** The list's filters, as in the address bar and in GET /api/v1/executions's query. */
export interface ExecutionFilters {
  readonly status: string
  readonly flow_id: string
  readonly id_prefix: string
  /** ISO 8601 times, or '' for none. */
  readonly created_after: string
  readonly created_before: string
  /** A parent execution's id: its sub-flows' executions only. */
  readonly parent_execution_id: string
}

export const FILTER_NAMES = ['status', 'flow_id', 'id_prefix', 'created_after', 'created_before', 'parent_execution_id'] as const

export function readFilters(search: URLSearchParams): ExecutionFilters {
  return {
    status: search.get('status') ?? '',
    flow_id: search.get('flow_id') ?? '',
    id_prefix: search.get('id_prefix') ?? '',
    created_after: search.get('created_after') ?? '',
    created_before: search.get('created_before') ?? '',
    parent_execution_id: search.get('parent_execution_id') ?? '',
  }
}

export const hasFilters = (f: ExecutionFilters): boolean => FILTER_NAMES.some((name) => f[name] !== '')

/** Whether an execution belongs in the list: what the server's filter would answer. */
export function matchesFilters(e: Pick<ExecutionSummary, 'execution_id' | 'flow_id' | 'status' | 'created_at' | 'parent_execution_id'>, f: ExecutionFilters): boolean {
  const created = Date.parse(e.created_at)
  return (
    (f.status === '' || e.status === f.status) &&
    (f.flow_id === '' || e.flow_id === f.flow_id) &&
    (f.id_prefix === '' || e.execution_id.startsWith(f.id_prefix)) &&
    (f.created_after === '' || created >= Date.parse(f.created_after)) &&
    (f.created_before === '' || created < Date.parse(f.created_before)) &&
    (f.parent_execution_id === '' || e.parent_execution_id === f.parent_execution_id)
  )
}

const pad = (n: number): string => String(n).padStart(2, '0')

/** An ISO time as a datetime-local input's value (the browser's time zone, to the minute). */
function toLocalInput(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** A datetime-local input's value (local time) as ISO 8601 UTC, or '' for none. */
function fromLocalInput(value: string): string {
  if (value === '') return ''
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? '' : d.toISOString()
}

/** Status and flow apply at once; the id prefix, the time range and the parent when the form is submitted. */
export function FilterBar(props: { filters: ExecutionFilters; flows: readonly FlowSummary[]; onChange: (next: Partial<ExecutionFilters>) => void }): React.JSX.Element {
  const { filters } = props
  const [flowText, setFlowText] = useState(filters.flow_id)
  const [idPrefix, setIdPrefix] = useState(filters.id_prefix)
  const [after, setAfter] = useState(toLocalInput(filters.created_after))
  const [before, setBefore] = useState(toLocalInput(filters.created_before))
  const [parent, setParent] = useState(filters.parent_execution_id)
  useEffect(() => setFlowText(filters.flow_id), [filters.flow_id])
  useEffect(() => setIdPrefix(filters.id_prefix), [filters.id_prefix])
  useEffect(() => setAfter(toLocalInput(filters.created_after)), [filters.created_after])
  useEffect(() => setBefore(toLocalInput(filters.created_before)), [filters.created_before])
  useEffect(() => setParent(filters.parent_execution_id), [filters.parent_execution_id])
  const known = useMemo(() => new Set(props.flows.map((f) => f.id)), [props.flows])
  return (
    <form
      className="fm-filters"
      role="search"
      aria-label="Filter executions"
      onSubmit={(event) => {
        event.preventDefault()
        props.onChange({
          flow_id: flowText.trim(),
          id_prefix: idPrefix.trim(),
          created_after: fromLocalInput(after),
          created_before: fromLocalInput(before),
          parent_execution_id: parent.trim(),
        })
      }}
    >
      <label>
        Status
        <select value={filters.status} onChange={(event) => props.onChange({ status: event.target.value })}>
          <option value="">all</option>
          {EXECUTION_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Flow
        <input
          list="fm-flow-ids"
          value={flowText}
          placeholder="all flows"
          onChange={(event) => {
            setFlowText(event.target.value)
            if (event.target.value === '' || known.has(event.target.value)) props.onChange({ flow_id: event.target.value })
          }}
        />
        <datalist id="fm-flow-ids">
          {props.flows.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
            </option>
          ))}
        </datalist>
      </label>
      <label>
        Id starts with
        <input value={idPrefix} placeholder="e.g. 019a2f" spellCheck={false} autoComplete="off" onChange={(event) => setIdPrefix(event.target.value)} />
      </label>
      <label>
        Created from
        <input type="datetime-local" value={after} onChange={(event) => setAfter(event.target.value)} />
      </label>
      <label>
        until
        <input type="datetime-local" value={before} onChange={(event) => setBefore(event.target.value)} />
      </label>
      <label>
        Sub-flows of
        <input value={parent} placeholder="a parent execution's id" spellCheck={false} autoComplete="off" onChange={(event) => setParent(event.target.value)} />
      </label>
      <button type="submit" className="fm-button">
        Filter
      </button>
      {hasFilters(filters) ? (
        <button type="button" className="fm-button" onClick={() => props.onChange({ status: '', flow_id: '', id_prefix: '', created_after: '', created_before: '', parent_execution_id: '' })}>
          Clear
        </button>
      ) : null}
    </form>
  )
}
