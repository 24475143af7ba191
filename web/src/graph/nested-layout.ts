import { fastLayout } from './fast-layout.js'
import { GROUP_PADDING, NODE_SIZE } from './sizes.js'
import type { GraphEdge, GraphModel, GraphNode } from './model.js'

type Point = { x: number; y: number }
type Box = { x: number; y: number; width: number; height: number }
type Route = { points: Point[]; label?: Point }

/**
 * `fastLayout` for graphs with parallel groups: the inside of each group's box is laid out on its
 * own, innermost first, and the box, sized to fit, is then one node of the level around it. Still
 * linear: every node and edge is laid out once, at its own level. A route between levels (only an
 * invalid flow in the editor has one) is drawn straight. Boxes and routes come back in graph coordinates.
 */
export function nestedFastLayout(model: GraphModel, skip: ReadonlySet<string>, reserve: (id: string) => number): { nodes: Map<string, Box>; edges: Map<string, Route> } {
  const ids = new Set(model.nodes.map((n) => n.id))
  const levelOf = (node: GraphNode | undefined): string => (node?.parent !== undefined && ids.has(node.parent) ? node.parent : '')
  const byId = new Map(model.nodes.map((n) => [n.id, n]))
  const push = <T>(map: Map<string, T[]>, key: string, value: T): void => {
    const list = map.get(key)
    if (list === undefined) map.set(key, [value])
    else list.push(value)
  }
  const levels = new Map<string, GraphNode[]>()
  for (const node of model.nodes) if (!skip.has(node.id)) push(levels, levelOf(node), node)
  const edgesOf = new Map<string, GraphEdge[]>()
  const across: GraphEdge[] = []
  for (const edge of model.edges) {
    const level = levelOf(byId.get(edge.source))
    if (level === levelOf(byId.get(edge.target))) push(edgesOf, level, edge)
    else across.push(edge)
  }
  const depth = (level: string): number => {
    let d = 0
    for (let at = byId.get(level); at !== undefined && d <= ids.size; at = at.parent === undefined ? undefined : byId.get(at.parent)) d++
    return d
  }

  // Innermost levels first, so that each box knows its size before the level around it is laid out.
  const sizes = new Map<string, { width: number; height: number }>()
  const local = new Map<string, { nodes: Map<string, Box>; edges: Map<string, Route>; minX: number; minY: number }>()
  for (const level of [...levels.keys()].sort((a, b) => depth(b) - depth(a))) {
    const nodes = levels.get(level) ?? []
    const placed = fastLayout({ nodes, edges: edgesOf.get(level) ?? [] }, (id, kind) => sizes.get(id) ?? NODE_SIZE[kind], new Set(), level === '' ? reserve : () => 0)
    let minX = Infinity
    let minY = Infinity
    let maxX = -Infinity
    let maxY = -Infinity
    for (const box of placed.nodes.values()) {
      minX = Math.min(minX, box.x)
      minY = Math.min(minY, box.y)
      maxX = Math.max(maxX, box.x + box.width)
      maxY = Math.max(maxY, box.y + box.height)
    }
    if (!Number.isFinite(minX)) [minX, minY, maxX, maxY] = [0, 0, 0, 0]
    local.set(level, { ...placed, minX, minY })
    if (level !== '') {
      sizes.set(level, {
        width: Math.max(NODE_SIZE.group.width, maxX - minX + GROUP_PADDING.left + GROUP_PADDING.right),
        height: Math.max(NODE_SIZE.group.height, maxY - minY + GROUP_PADDING.top + GROUP_PADDING.bottom),
      })
    }
  }

  // Outermost first: each level's boxes and routes moved to where its group's box sits.
  const nodes = new Map<string, Box>()
  const edges = new Map<string, Route>()
  for (const level of [...levels.keys()].sort((a, b) => depth(a) - depth(b))) {
    const placed = local.get(level)
    if (placed === undefined) continue
    const box = level === '' ? undefined : nodes.get(level)
    if (level !== '' && box === undefined) continue
    const dx = box === undefined ? 0 : box.x + GROUP_PADDING.left - placed.minX
    const dy = box === undefined ? 0 : box.y + GROUP_PADDING.top - placed.minY
    const move = (p: Point): Point => ({ x: p.x + dx, y: p.y + dy })
    for (const [id, b] of placed.nodes) nodes.set(id, { ...b, ...move(b) })
    for (const [id, route] of placed.edges) edges.set(id, { points: route.points.map(move), ...(route.label === undefined ? {} : { label: move(route.label) }) })
  }
  for (const edge of across) {
    const s = nodes.get(edge.source)
    const t = nodes.get(edge.target)
    if (s === undefined || t === undefined) continue
    const from = { x: s.x + s.width / 2, y: s.y + s.height }
    const to = { x: t.x + t.width / 2, y: t.y }
    edges.set(edge.id, { points: [from, to], label: { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 } })
  }
  return { nodes, edges }
}
