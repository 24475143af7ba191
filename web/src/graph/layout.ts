import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js'
import { fastLayout } from './fast-layout.js'
import { labelSize } from './fit.js'
import type { GraphModel, NodeKind } from './model.js'

type Box = { x: number; y: number; width: number; height: number }
type Route = { points: { x: number; y: number }[]; label?: { x: number; y: number } }

/** Where each node sits (top-left corner) and the route of each edge. */
export interface Layout {
  readonly nodes: ReadonlyMap<string, Box>
  readonly edges: ReadonlyMap<string, Route>
  /** Edges to `end` drawn to an `end` terminal of their own (large graphs), by edge id: the terminal's node id. */
  readonly stubs: ReadonlyMap<string, string>
}

export const NODE_SIZE: Record<NodeKind, { width: number; height: number }> = {
  start: { width: 20, height: 20 },
  task: { width: 184, height: 58 },
  missing: { width: 184, height: 58 },
  end: { width: 72, height: 36 },
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
 * `fastLayout`. ELK on a 500-task flow takes minutes as drawn (every edge to the one `end` node
 * spans all the layers below its source, and a layered layout pays for each layer crossed) and still
 * about two seconds, cold, in a browser once those edges are gone. So a large graph gets a linear-time
 * layered layout, and each of its edges to `end` a small `end` terminal of its own beside its source.
 */
export async function layoutGraph(model: GraphModel): Promise<Layout> {
  const large = model.nodes.length > LARGE_GRAPH
  const endId = model.nodes.find((n) => n.kind === 'end')?.id
  const stubbed = large && endId !== undefined ? model.edges.filter((e) => e.target === endId) : []
  const withStub = new Set(stubbed.map((e) => e.source))
  const stubRoom = NODE_SIZE.end.width + STUB_GAP
  const placed = large
    ? fastLayout(model, (_id, kind) => NODE_SIZE[kind], new Set(endId === undefined ? [] : [endId]), (id) => (withStub.has(id) ? stubRoom : 0))
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

async function elkLayout(model: GraphModel): Promise<{ nodes: Map<string, Box>; edges: Map<string, Route> }> {
  const engine = await loadElk()
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
    },
    children: model.nodes.map((node) => ({ id: node.id, ...NODE_SIZE[node.kind] })),
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
  for (const child of result.children ?? []) {
    nodes.set(child.id, { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 })
  }
  const edges = new Map<string, Route>()
  for (const edge of result.edges ?? []) {
    const section = edge.sections?.[0]
    if (section === undefined) continue
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]
    const label = edge.labels?.[0]
    const at = label?.x === undefined || label.y === undefined ? midpoint(points) : { x: label.x + (label.width ?? 0) / 2, y: label.y + (label.height ?? 0) / 2 }
    edges.set(edge.id, { points, ...(at === undefined ? {} : { label: at }) })
  }
  return { nodes, edges }
}

function midpoint(points: readonly { x: number; y: number }[]): { x: number; y: number } | undefined {
  const a = points[0]
  const b = points[1]
  if (a === undefined || b === undefined) return undefined
  return { x: (a.x + b.x) / 2 + 4, y: (a.y + b.y) / 2 }
}
