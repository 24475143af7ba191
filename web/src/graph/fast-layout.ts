import type { GraphModel, NodeKind } from './model.js'

type Point = { x: number; y: number }
type Box = { x: number; y: number; width: number; height: number }

const LAYER_GAP = 40
const NODE_GAP = 28

/**
 * A layered layout in linear time, for graphs too large for ELK to lay out within a second in the
 * browser (ELK needs about two seconds, cold, for 500 tasks). Cycles are broken by a depth-first
 * walk from the start; each node sits one layer below its lowest parent (longest path); one
 * barycentre sweep orders each layer. Edges go down between layers; edges back up go round the right.
 */
export function fastLayout(
  model: GraphModel,
  sizeOf: (id: string, kind: NodeKind) => { width: number; height: number },
  skip: ReadonlySet<string>,
  /** Room kept free to the right of a node (for its own `end` terminal). */
  reserve: (id: string) => number,
): { nodes: Map<string, Box>; edges: Map<string, { points: Point[]; label?: Point }> } {
  const nodes = model.nodes.filter((n) => !skip.has(n.id))
  const ids = new Set(nodes.map((n) => n.id))
  const edges = model.edges.filter((e) => ids.has(e.source) && ids.has(e.target))
  const out = new Map<string, typeof edges>()
  for (const e of edges) out.set(e.source, [...(out.get(e.source) ?? []), e])

  // Depth-first from the first node (the start), then from any node not reached: back edges close cycles.
  const order: string[] = []
  const state = new Map<string, 'open' | 'done'>()
  const back = new Set<string>()
  for (const root of nodes) {
    if (state.has(root.id)) continue
    const stack: { id: string; next: number }[] = [{ id: root.id, next: 0 }]
    state.set(root.id, 'open')
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const children = out.get(top.id) ?? []
      if (top.next < children.length) {
        const edge = children[top.next++]!
        const seen = state.get(edge.target)
        if (seen === 'open') back.add(edge.id)
        else if (seen === undefined) {
          state.set(edge.target, 'open')
          stack.push({ id: edge.target, next: 0 })
        }
      } else {
        state.set(top.id, 'done')
        order.push(top.id)
        stack.pop()
      }
    }
  }
  order.reverse() // a topological order of the forward edges

  const layer = new Map<string, number>()
  for (const id of order) {
    const l = layer.get(id) ?? 0
    layer.set(id, l)
    for (const e of out.get(id) ?? []) if (!back.has(e.id)) layer.set(e.target, Math.max(layer.get(e.target) ?? 0, l + 1))
  }
  const layers: string[][] = []
  for (const id of order) (layers[layer.get(id) ?? 0] ??= []).push(id)

  const kindOf = new Map(nodes.map((n) => [n.id, n.kind]))
  const boxes = new Map<string, Box>()
  const parents = new Map<string, string[]>()
  for (const e of edges) if (!back.has(e.id)) parents.set(e.target, [...(parents.get(e.target) ?? []), e.source])
  let y = 0
  let maxX = 0
  for (const row of layers) {
    if (row === undefined) continue
    const centre = (id: string): number => {
      const xs = (parents.get(id) ?? []).map((p) => boxes.get(p)).filter((b): b is Box => b !== undefined).map((b) => b.x + b.width / 2)
      return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length
    }
    const sorted = row.map((id, i) => ({ id, i, c: centre(id) })).sort((a, b) => a.c - b.c || a.i - b.i)
    const sizes = sorted.map(({ id }) => sizeOf(id, kindOf.get(id) ?? 'task'))
    const room = sorted.map(({ id }) => reserve(id))
    const height = Math.max(...sizes.map((s) => s.height))
    // Pack the layer, then centre its nodes (not the room beside them) under their parents' average,
    // so that a chain stays straight.
    const lefts: number[] = []
    let x = 0
    sizes.forEach((size, i) => {
      lefts.push(x)
      x += size.width + (room[i] ?? 0) + NODE_GAP
    })
    const centres = sizes.reduce((sum, size, i) => sum + lefts[i]! + size.width / 2, 0) / sizes.length
    const shift = sorted.reduce((sum, s) => sum + s.c, 0) / sorted.length - centres
    sorted.forEach(({ id }, i) => {
      const size = sizes[i]!
      boxes.set(id, { x: lefts[i]! + shift, y: y + (height - size.height) / 2, ...size })
      maxX = Math.max(maxX, lefts[i]! + shift + size.width + (room[i] ?? 0))
    })
    y += height + LAYER_GAP
  }

  const routes = new Map<string, { points: Point[]; label?: Point }>()
  let lane = 0
  for (const e of edges) {
    const s = boxes.get(e.source)
    const t = boxes.get(e.target)
    if (s === undefined || t === undefined) continue
    const sw = sizeOf(e.source, kindOf.get(e.source) ?? 'task').width
    const tw = sizeOf(e.target, kindOf.get(e.target) ?? 'task').width
    if (back.has(e.id) || t.y <= s.y) {
      const x = maxX + 12 * (lane++ % 8)
      const from = { x: s.x + sw, y: s.y + s.height / 2 }
      const to = { x: t.x + tw, y: t.y + t.height / 2 }
      routes.set(e.id, { points: [from, { x, y: from.y }, { x, y: to.y }, to], label: { x: x + 4, y: (from.y + to.y) / 2 } })
      continue
    }
    const from = { x: s.x + sw / 2, y: s.y + s.height }
    const to = { x: t.x + tw / 2, y: t.y }
    const mid = from.y + LAYER_GAP / 2
    const points = from.x === to.x ? [from, to] : [from, { x: from.x, y: mid }, { x: to.x, y: mid }, to]
    routes.set(e.id, { points, label: from.x === to.x ? { x: from.x + 30, y: (from.y + to.y) / 2 } : { x: (from.x + to.x) / 2, y: mid - 8 } })
  }
  return { nodes: boxes, edges: routes }
}
