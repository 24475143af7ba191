import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js'
import { nestedFastLayout } from './nested-layout.js'
import { labelSize } from './fit.js'
import type { GraphModel, GraphNode } from './model.js'
import { GROUP_PADDING, NODE_SIZE } from './sizes.js'

type Box = { x: number; y: number; width: number; height: number }
type Route = { points: { x: number; y: number }[]; label?: { x: number; y: number } }

/** Where each node sits (top-left corner) and the route of each edge. */
export interface Layout {
  readonly nodes: ReadonlyMap<string, Box>
  readonly edges: ReadonlyMap<string, Route>
  /** Edges to `end` drawn to an `end` terminal of their own (large graphs), by edge id: the terminal's node id. */
  readonly stubs: ReadonlyMap<string, string>
}

let elk: Promise<ELK> | undefined

/**
 * ELK is the largest part of the UI (~470 kB gzip), so it is fetched on first use and runs in a
 * worker: pages without a graph never load it, and a large layout does not freeze the page.
 */
function loadElk(): Promise<ELK> {
  elk ??= Promise.all([import('elkjs/lib/elk-api.js'), import('elkjs/lib/elk-worker.min.js?url')]).then(
    ([api, worker]) => new api.default({ workerUrl: worker.default }),
  )
  return elk
}

/** Starts fetching ELK before a graph needs it (e.g. while the execution itself is loading). */
export function preloadLayout(): void {
  void loadElk()
}

/** Above this many nodes, a graph is laid out the fast way (see `layoutGraph`). */
export const LARGE_GRAPH = 120
const STUB_GAP = 44

export const endStubId = (edgeId: string): string => `__end:${edgeId}`

/**
 * Lays a graph out top to bottom: with ELK's layered algorithm, or, above LARGE_GRAPH nodes, with
 * `nestedFastLayout`. ELK on a 500-task flow takes minutes as drawn (every edge to the one `end` node
 * spans all the layers below its source, and a layered layout pays for each layer crossed) and still
 * about two seconds, cold, in a browser once those edges are gone. So a large graph gets a linear-time
 * layered layout, and each of its edges to `end` a small `end` terminal of its own beside its source.
 * Boxes are in graph coordinates, a group's tasks included (not relative to their group).
 */
export async function layoutGraph(model: GraphModel): Promise<Layout> {
  const large = model.nodes.length > LARGE_GRAPH
  const endId = model.nodes.find((n) => n.kind === 'end' && n.parent === undefined)?.id
  const stubbed = large && endId !== undefined ? model.edges.filter((e) => e.target === endId) : []
  const withStub = new Set(stubbed.map((e) => e.source))
  const stubRoom = NODE_SIZE.end.width + STUB_GAP
  const placed = large
    ? nestedFastLayout(model, new Set(endId === undefined ? [] : [endId]), (id) => (withStub.has(id) ? stubRoom : 0))
    : await elkLayout(model)
  const { nodes, edges } = placed
  const stubs = new Map<string, string>()
  for (const edge of stubbed) {
    const source = nodes.get(edge.source)
    if (source === undefined) continue
    const y = source.y + source.height / 2
    const from = { x: source.x + source.width, y }
    const stub = { x: from.x + STUB_GAP, y: y - NODE_SIZE.end.height / 2, ...NODE_SIZE.end }
    const id = endStubId(edge.id)
    nodes.set(id, stub)
    stubs.set(edge.id, id)
    edges.set(edge.id, { points: [from, { x: stub.x, y }], label: { x: from.x + STUB_GAP / 2, y: y - 9 } })
  }
  return { nodes, edges, stubs }
}

const padding = `[top=${GROUP_PADDING.top},left=${GROUP_PADDING.left},bottom=${GROUP_PADDING.bottom},right=${GROUP_PADDING.right}]`

async function elkLayout(model: GraphModel): Promise<{ nodes: Map<string, Box>; edges: Map<string, Route> }> {
  const engine = await loadElk()
  const ids = new Set(model.nodes.map((n) => n.id))
  const inside = new Map<string, GraphNode[]>()
  for (const node of model.nodes) if (node.parent !== undefined && ids.has(node.parent)) inside.set(node.parent, [...(inside.get(node.parent) ?? []), node])
  const toElk = (node: GraphNode): ElkNode => {
    const children = inside.get(node.id)
    if (node.kind !== 'group' || children === undefined) return { id: node.id, ...NODE_SIZE[node.kind] }
    return {
      id: node.id,
      layoutOptions: {
        'elk.padding': padding,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${NODE_SIZE.group.width}, ${NODE_SIZE.group.height})`,
      },
      children: children.map(toElk),
    }
  }
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '28',
      'elk.layered.spacing.nodeNodeBetweenLayers': '44',
      'elk.spacing.edgeLabel': '4',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      // A group's branches are laid out with the rest, so that routes into and out of its box are
      // routed as one; every coordinate comes back in the graph's own frame.
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.shapeCoords': 'ROOT',
      'elk.json.edgeCoords': 'ROOT',
    },
    children: model.nodes.filter((n) => n.parent === undefined || !ids.has(n.parent)).map(toElk),
    edges: model.edges.map(
      (edge): ElkExtendedEdge => ({
        id: edge.id,
        sources: [edge.source],
        targets: [edge.target],
        ...(edge.label === '' ? {} : { labels: [{ id: `${edge.id}:label`, text: edge.label, ...labelSize(edge.label) }] }),
      }),
    ),
  }
  const result = await engine.layout(graph)
  const nodes = new Map<string, Box>()
  const edges = new Map<string, Route>()
  const collect = (node: ElkNode): void => {
    for (const child of node.children ?? []) {
      nodes.set(child.id, { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 })
      collect(child)
    }
    for (const edge of node.edges ?? []) {
      const section = edge.sections?.[0]
      if (section === undefined) continue
      const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]
      const label = edge.labels?.[0]
      const at = label?.x === undefined || label.y === undefined ? midpoint(points) : { x: label.x + (label.width ?? 0) / 2, y: label.y + (label.height ?? 0) / 2 }
      edges.set(edge.id, { points, ...(at === undefined ? {} : { label: at }) })
    }
  }
  collect(result)
  return { nodes, edges }
}

function midpoint(points: readonly { x: number; y: number }[]): { x: number; y: number } | undefined {
  const a = points[0]
  const b = points[1]
  if (a === undefined || b === undefined) return undefined
  return { x: (a.x + b.x) / 2 + 4, y: (a.y + b.y) / 2 }
}
