import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js'
import type { GraphModel, NodeKind } from './model.js'

/** Where ELK put a node (top-left corner) and the route of each edge. */
export interface Layout {
  readonly width: number
  readonly height: number
  readonly nodes: ReadonlyMap<string, { readonly x: number; readonly y: number; readonly width: number; readonly height: number }>
  readonly edges: ReadonlyMap<string, { readonly points: readonly { x: number; y: number }[]; readonly label?: { x: number; y: number } }>
}

export const NODE_SIZE: Record<NodeKind, { width: number; height: number }> = {
  start: { width: 20, height: 20 },
  task: { width: 184, height: 58 },
  missing: { width: 184, height: 58 },
  end: { width: 72, height: 36 },
}

const LABEL = { width: 52, height: 16 }

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

export async function layoutGraph(model: GraphModel): Promise<Layout> {
  const engine = await loadElk()
  const big = model.nodes.length > 150
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '28',
      'elk.layered.spacing.nodeNodeBetweenLayers': '44',
      'elk.spacing.edgeLabel': '4',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      // Large graphs: fewer crossing-minimisation passes keep the layout under a second.
      ...(big ? { 'elk.layered.thoroughness': '1', 'elk.layered.crossingMinimization.greedySwitch.type': 'OFF' } : {}),
    },
    children: model.nodes.map((node) => ({ id: node.id, ...NODE_SIZE[node.kind] })),
    edges: model.edges.map(
      (edge): ElkExtendedEdge => ({
        id: edge.id,
        sources: [edge.source],
        targets: [edge.target],
        ...(edge.label === '' ? {} : { labels: [{ id: `${edge.id}:label`, text: edge.label, ...LABEL }] }),
      }),
    ),
  }
  const result = await engine.layout(graph)
  const nodes = new Map<string, { x: number; y: number; width: number; height: number }>()
  for (const child of result.children ?? []) {
    nodes.set(child.id, { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 })
  }
  const edges = new Map<string, { points: { x: number; y: number }[]; label?: { x: number; y: number } }>()
  for (const edge of result.edges ?? []) {
    const section = edge.sections?.[0]
    if (section === undefined) continue
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]
    const label = edge.labels?.[0]
    edges.set(edge.id, {
      points,
      ...(label?.x === undefined || label.y === undefined ? {} : { label: { x: label.x + (label.width ?? 0) / 2, y: label.y + (label.height ?? 0) / 2 } }),
    })
  }
  return { width: result.width ?? 0, height: result.height ?? 0, nodes, edges }
}
