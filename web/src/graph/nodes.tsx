import { Handle, Position, type Node, type NodeProps } from '@xyflow/react'
import { memo } from 'react'
import { elapsed, formatMs, useNow } from '../format.js'
import { href, onLinkClick } from '../router.js'
import { itemsText } from '../runs.js'
import { attemptText, clockTime, counts, formatIn, type Wait } from '../waits.js'
import type { GraphNode, NodeState } from './model.js'

export interface NodeData extends Record<string, unknown> {
  readonly node: GraphNode
  readonly selected: boolean
  readonly onSelect: ((task: string) => void) | undefined
}
export type FmNode = Node<NodeData, 'fm' | 'fmGroup'>

export const STATE_LABEL: Record<NodeState, string> = {
  idle: '',
  pending: 'pending',
  running: 'running',
  waiting: 'waiting',
  retrying: 'retrying',
  succeeded: 'succeeded',
  failed: 'failed',
  retried: 'retried',
  skipped: 'skipped',
  interrupted: 'interrupted',
}
export const STATE_ICON: Record<NodeState, string> = { idle: '', pending: '○', running: '◔', waiting: '◷', retrying: '↻', succeeded: '✓', failed: '✕', retried: '↻', skipped: '–', interrupted: '⏸' }

function Timer({ since }: { since: string }): React.JSX.Element {
  const now = useNow(true)
  return <span className="fm-timer">{formatMs(elapsed(since, null, now))}</span>
}

/** The two lines a wait adds under a node's name: what it waits for, and when that comes (live). */
function waitLines(wait: Wait, now: number): [string, string | undefined] {
  const left = (iso: string): string => {
    const ms = Date.parse(iso) - now
    return ms > 0 ? `in ${formatIn(ms)}` : 'now'
  }
  switch (wait.kind) {
    case 'retry':
      return [`retrying ${left(wait.at)}`, attemptText(wait.attempt, wait.maxAttempts)]
    case 'timer':
      return [`until ${clockTime(wait.until, now)}`, left(wait.until)]
    case 'signal':
      return [`signal "${wait.signal}"`, wait.timeoutAt === undefined ? 'no timeout' : `times out ${left(wait.timeoutAt)}`]
    case 'child':
      return ['child execution', undefined]
  }
}

/** A node's state line and detail line; re-rendered each tick while something counts down or runs. */
function NodeLines({ node }: { node: GraphNode }): React.JSX.Element {
  const now = useNow(counts(node.wait))
  const icon = STATE_ICON[node.state]
  const state = STATE_LABEL[node.state]
  let meta: React.ReactNode
  let detail: string | undefined
  if (node.kind === 'missing') meta = <span>unknown task</span>
  else if (node.wait !== undefined) {
    const [what, when] = waitLines(node.wait, now)
    meta = (
      <span className="fm-node-state">
        {icon} {what}
      </span>
    )
    detail = when
  } else {
    meta = (
      <>
        {state === '' ? <span>{node.type ?? node.description ?? ''}</span> : <span className="fm-node-state">{icon} {state}</span>}
        {node.runningSince !== undefined ? <Timer since={node.runningSince} /> : node.durationMs !== undefined ? <span>{formatMs(node.durationMs)}</span> : null}
      </>
    )
  }
  if (node.items !== undefined) detail = itemsText(node.items)
  else if (detail === undefined && node.forEach !== undefined && node.state === 'idle') detail = `for each of ${node.forEach}`
  return (
    <>
      <span className="fm-node-meta">{meta}</span>
      {detail !== undefined ? <span className="fm-node-detail">{detail}</span> : null}
    </>
  )
}

function Handles(): React.JSX.Element {
  return (
    <>
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </>
  )
}

/** What a screen reader hears for a node, and its tooltip: its name, state and wait in words. */
function spoken(node: GraphNode): string {
  const parts = [node.label]
  if (STATE_LABEL[node.state] !== '') parts.push(STATE_LABEL[node.state])
  if (node.items !== undefined) parts.push(itemsText(node.items))
  return parts.join(', ')
}

export const FmNodeView = memo(function FmNodeView({ data }: NodeProps<FmNode>): React.JSX.Element {
  const { node, selected, onSelect } = data
  if (node.kind === 'start') {
    return (
      <div className="fm-start" title="start">
        <Handles />
      </div>
    )
  }
  if (node.kind === 'end') {
    const reached = node.state === 'idle' ? '' : ` (${node.state === 'skipped' || node.state === 'pending' ? 'not reached' : 'reached'})`
    return (
      <div className={`fm-end state-${node.state}`} title={`${node.description ?? 'end'}${reached}`} data-end={node.parent === undefined ? 'flow' : 'branch'}>
        <Handles />
        end
      </div>
    )
  }
  const body = (
    <>
      <span className="fm-node-name">
        {node.label}
        {node.runs > 1 ? <span className="fm-node-runs" title={`${node.runs} task runs`}>×{node.runs}</span> : null}
      </span>
      <NodeLines node={node} />
    </>
  )
  const className = `fm-node kind-${node.kind} state-${node.state}${selected ? ' selected' : ''}`
  return (
    <div className={className} data-task={node.label} data-state={node.state} data-wait={node.wait?.kind} title={node.description ?? node.error ?? spoken(node)}>
      <Handles />
      {onSelect === undefined || node.kind !== 'task' ? (
        <div className="fm-node-body">{body}</div>
      ) : (
        // The click (from the pointer, Enter or Space) bubbles to React Flow's onNodeClick, which selects.
        <button type="button" className="fm-node-body" aria-pressed={selected} aria-label={`${spoken(node)}: show its task runs`}>
          {body}
        </button>
      )}
      {node.child !== undefined ? (
        <a className="fm-node-child" href={href.execution(node.child)} onClick={(e) => (e.stopPropagation(), onLinkClick(e))} title={`Open child execution ${node.child}`}>
          child ↗
        </a>
      ) : null}
    </div>
  )
})

/** A parallel group: a box around its branches, its name, join rule and state in the top band. */
export const GroupNodeView = memo(function GroupNodeView({ data }: NodeProps<FmNode>): React.JSX.Element {
  const { node, selected, onSelect } = data
  const group = node.group
  const rule = group === undefined ? '' : `parallel · join ${group.join}${group.maxConcurrency === undefined ? '' : ` · ${group.maxConcurrency} at once`}`
  const state = STATE_LABEL[node.state]
  const head = (
    <>
      <span className="fm-node-name">{node.label}</span>
      <span className="fm-group-rule">{rule}</span>
      {state === '' ? null : (
        <span className="fm-node-state">
          {STATE_ICON[node.state]} {state}
        </span>
      )}
      {node.runningSince !== undefined ? <Timer since={node.runningSince} /> : node.durationMs !== undefined ? <span className="fm-muted">{formatMs(node.durationMs)}</span> : null}
    </>
  )
  return (
    <div className={`fm-group state-${node.state}${selected ? ' selected' : ''}`} data-group={node.label} data-task={node.label} data-state={node.state} title={node.description ?? node.error ?? `${node.label}: ${rule}`}>
      <Handles />
      {onSelect === undefined ? (
        <div className="fm-group-head">{head}</div>
      ) : (
        <button type="button" className="fm-group-head" aria-pressed={selected} aria-label={`${spoken(node)}, ${rule}: show its task runs`}>
          {head}
        </button>
      )}
    </div>
  )
})
