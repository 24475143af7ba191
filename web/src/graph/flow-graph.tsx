import { BaseEdge, Controls, getViewportForBounds, MarkerType, ReactFlow, ReactFlowProvider, useReactFlow, type Edge, type EdgeProps } from '@xyflow/react'
import '@xyflow/react/dist/base.css'
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { drawnBounds, FIT_PADDING } from './fit.js'
import { LARGE_GRAPH, layoutGraph, type Layout } from './layout.js'
import { structureKey, type GraphModel, type GraphNode, type NodeState } from './model.js'
import { FmNodeView, GroupNodeView, type FmNode } from './nodes.js'
import { NODE_SIZE } from './sizes.js'

interface EdgeData extends Record<string, unknown> {
  readonly points: readonly { x: number; y: number }[] | undefined
  readonly label: string
  readonly labelAt: { x: number; y: number } | undefined
  readonly title: string
  readonly taken: boolean
}
type FmEdge = Edge<EdgeData, 'routed'>

const RoutedEdge = memo(function RoutedEdge({ id, data, sourceX, sourceY, targetX, targetY, markerEnd }: EdgeProps<FmEdge>): React.JSX.Element {
  const points = data?.points
  const path = points === undefined ? `M${sourceX},${sourceY}L${targetX},${targetY}` : `M${points.map((p) => `${p.x},${p.y}`).join('L')}`
  const at = data?.labelAt
  const className = `fm-edge${data?.taken === true ? ' taken' : ''}${data?.label === 'failure' ? ' on-failure' : ''}`
  return (
    <g className={className}>
      <title>{data?.title}</title>
      <BaseEdge id={id} path={path} {...(markerEnd === undefined ? {} : { markerEnd })} />
      {at !== undefined && data !== undefined && data.label !== '' ? (
        <text className="fm-edge-label" x={at.x} y={at.y} textAnchor="middle" dominantBaseline="central">
          {data.label}
        </text>
      ) : null}
    </g>
  )
})

const nodeTypes = { fm: FmNodeView, fmGroup: GroupNodeView }

/** For a large graph, what to show first: the tasks that matter (running or failed, else the first few), readable, rather than hundreds of specks. */
function focusOptions(model: GraphModel): { padding: typeof FIT_PADDING; maxZoom: number; nodes: { id: string }[] } {
  const focus = model.nodes.filter((n) => n.state === 'running' || n.state === 'waiting' || n.state === 'retrying' || n.state === 'failed')
  const nodes = (focus.length > 0 ? focus : model.nodes.slice(0, 6)).map((n) => ({ id: n.id }))
  return { padding: FIT_PADDING, maxZoom: 1, nodes }
}
const edgeTypes = { routed: RoutedEdge }

export interface FlowGraphProps {
  readonly model: GraphModel
  /** The selected task's name. */
  readonly selected?: string | undefined
  /** Makes task nodes buttons that select the task. */
  readonly onSelect?: (task: string) => void
  readonly label: string
}

/** A flow or an execution drawn with React Flow, laid out by ELK; the layout is redone only when the structure changes. */
export function FlowGraph(props: FlowGraphProps): React.JSX.Element {
  return (
    <ReactFlowProvider>
      <GraphCanvas {...props} />
    </ReactFlowProvider>
  )
}

function GraphCanvas({ model, selected, onSelect, label }: FlowGraphProps): React.JSX.Element {
  const key = useMemo(() => structureKey(model), [model])
  const [layout, setLayout] = useState<{ key: string; layout: Layout } | undefined>(undefined)
  const [failed, setFailed] = useState<string | undefined>(undefined)
  const started = useRef(0)
  const flow = useReactFlow()
  const container = useRef<HTMLDivElement>(null)

  useEffect(() => {
    let live = true
    started.current = performance.now()
    container.current?.removeAttribute('data-ready')
    layoutGraph(model).then(
      (result) => {
        container.current?.setAttribute('data-layout-ms', (performance.now() - started.current).toFixed(1))
        if (live) setLayout({ key, layout: result })
      },
      (error: unknown) => {
        if (live) setFailed(error instanceof Error ? error.message : String(error))
      },
    )
    return () => {
      live = false
    }
    // The layout depends on the structure only (`key`); states change without a new layout.
  }, [key])

  const current = layout?.layout
  const nodes = useMemo<FmNode[]>(() => {
    if (current === undefined) return []
    const end = model.nodes.find((n) => n.kind === 'end')
    const stubNodes: GraphNode[] = []
    if (end !== undefined && current.stubs.size > 0) {
      for (const edge of model.edges) {
        const id = current.stubs.get(edge.id)
        if (id === undefined) continue
        const state: NodeState = edge.taken ? end.state : end.state === 'idle' ? 'idle' : end.state === 'pending' ? 'pending' : 'skipped'
        stubNodes.push({ ...end, id, state })
      }
    }
    const drawn = current.stubs.size > 0 ? [...model.nodes.filter((n) => n !== end), ...stubNodes] : model.nodes
    // React Flow places a group's tasks relative to its box, and wants each box before what it holds.
    const byId = new Map(drawn.map((n) => [n.id, n]))
    const depth = (node: GraphNode): number => {
      let d = 0
      for (let at = node.parent; at !== undefined && d < drawn.length; at = byId.get(at)?.parent) d++
      return d
    }
    const ordered = drawn.map((node) => ({ node, depth: depth(node) })).sort((a, b) => a.depth - b.depth)
    return ordered.map(({ node }) => {
      const box = current.nodes.get(node.id)
      const parentBox = node.parent === undefined ? undefined : current.nodes.get(node.parent)
      const size = node.kind === 'group' && box !== undefined ? box : NODE_SIZE[node.kind]
      return {
        id: node.id,
        type: node.kind === 'group' ? 'fmGroup' : 'fm',
        position: { x: (box?.x ?? 0) - (parentBox?.x ?? 0), y: (box?.y ?? 0) - (parentBox?.y ?? 0) },
        ...(parentBox === undefined || node.parent === undefined ? {} : { parentId: node.parent }),
        width: size.width,
        height: size.height,
        data: { node, selected: (node.kind === 'task' || node.kind === 'group') && node.label === selected, onSelect },
        draggable: false,
        selectable: false,
        focusable: false,
      }
    })
  }, [current, model, selected, onSelect])

  const edges = useMemo<FmEdge[]>(() => {
    if (current === undefined) return []
    return model.edges.map((edge) => {
      const route = current.edges.get(edge.id)
      return {
        id: edge.id,
        type: 'routed',
        source: edge.source,
        target: current.stubs.get(edge.id) ?? edge.target,
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16, color: edge.taken ? 'var(--taken)' : edge.label === 'failure' ? 'var(--edge-failure)' : 'var(--edge)' },
        data: { points: route?.points, label: edge.label, labelAt: route?.label, title: edge.title, taken: edge.taken },
        focusable: false,
        selectable: false,
        zIndex: edge.taken ? 1 : 0,
      }
    })
  }, [current, model])

  const modelRef = useRef(model)
  modelRef.current = model
  const nodesRef = useRef(nodes)
  nodesRef.current = nodes
  /** Fits a small graph whole (labels included) beside the zoom buttons; a large one to the tasks that matter. */
  const fit = useCallback((): void => {
    const element = container.current
    const pane = element?.querySelector('.react-flow')
    const drawn = layout?.layout
    if (element === null || pane == null || drawn === undefined) return
    if (modelRef.current.nodes.length > LARGE_GRAPH) {
      void flow.fitView(focusOptions(modelRef.current))
      return
    }
    const sizes = new Map(nodesRef.current.map((n) => [n.id, { width: n.width ?? 0, height: n.height ?? 0 }]))
    const bounds = drawnBounds(drawn, sizes, new Map(modelRef.current.edges.map((e) => [e.id, e.label])))
    if (bounds === undefined) return
    void flow.setViewport(getViewportForBounds(bounds, pane.clientWidth, pane.clientHeight, 0.05, 1.2, FIT_PADDING))
  }, [flow, layout])

  // Fit the view to a new layout once drawn, then say the graph is ready (the benchmark and tests wait for this).
  useEffect(() => {
    if (layout === undefined) return
    const frame = requestAnimationFrame(() => {
      fit()
      requestAnimationFrame(() => {
        const ms = performance.now() - started.current
        container.current?.setAttribute('data-ready', 'true')
        container.current?.setAttribute('data-draw-ms', ms.toFixed(1))
      })
    })
    return () => cancelAnimationFrame(frame)
  }, [layout, fit])

  // A new size (a rotated phone, a resized window) fits the graph again.
  const laidOut = layout !== undefined
  useEffect(() => {
    const element = container.current
    if (!laidOut || element === null) return
    let frame = 0
    let first = true
    const observer = new ResizeObserver(() => {
      if (first) {
        first = false
        return
      }
      cancelAnimationFrame(frame)
      frame = requestAnimationFrame(fit)
    })
    observer.observe(element)
    return () => {
      observer.disconnect()
      cancelAnimationFrame(frame)
    }
  }, [laidOut, fit])

  return (
    <div className="fm-graph" ref={container} role="group" aria-label={label} data-nodes={model.nodes.length}>
      {failed !== undefined ? <p className="fm-error">The graph could not be laid out: {failed}</p> : null}
      {current === undefined && failed === undefined ? <p className="fm-muted fm-graph-wait">Laying out the graph…</p> : null}
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        elementsSelectable={false}
        {...(onSelect === undefined
          ? {}
          : {
              onNodeClick: (_event: React.MouseEvent, clicked: FmNode) => {
                if (clicked.data.node.kind === 'task' || clicked.data.node.kind === 'group') onSelect(clicked.data.node.label)
              },
            })}
        minZoom={0.05}
        maxZoom={2}
        onlyRenderVisibleElements={model.nodes.length > 300}
      >
        <Controls showInteractive={false} fitViewOptions={{ padding: FIT_PADDING }} onFitView={fit} />
      </ReactFlow>
    </div>
  )
}
