import type { getViewportForBounds, Rect } from '@xyflow/react'
import type { Layout } from './layout.js'

type Padding = Parameters<typeof getViewportForBounds>[5]

/**
 * Space kept free around a fitted graph, in screen pixels: the zoom buttons sit in the bottom-left
 * corner, so the left side keeps their width, and no node is drawn under them.
 */
export const FIT_PADDING: Padding = { top: '20px', right: '20px', bottom: '20px', left: '60px' }

/** The room an edge label takes at the labels' 11 px: about 6.6 px a character, a little over. */
export const labelSize = (text: string): { width: number; height: number } => ({ width: Math.ceil(text.length * 6.6) + 8, height: 16 })

/**
 * Everything a small graph draws, in graph coordinates: its nodes, the bends of its edges, and
 * the room of its edge labels, so that fitting the view never cuts a label that sits beside the
 * nodes (React Flow's own fit sees the nodes only).
 */
export function drawnBounds(layout: Layout, sizes: ReadonlyMap<string, { width: number; height: number }>, labels: ReadonlyMap<string, string>): Rect | undefined {
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  const add = (x: number, y: number, width = 0, height = 0): void => {
    minX = Math.min(minX, x)
    minY = Math.min(minY, y)
    maxX = Math.max(maxX, x + width)
    maxY = Math.max(maxY, y + height)
  }
  for (const [id, box] of layout.nodes) {
    const size = sizes.get(id) ?? box
    add(box.x, box.y, size.width, size.height)
  }
  for (const [id, route] of layout.edges) {
    for (const p of route.points) add(p.x, p.y)
    const text = labels.get(id)
    if (route.label === undefined || text === undefined || text === '') continue
    // Labels are drawn centred on their point.
    const room = labelSize(text)
    add(route.label.x - room.width / 2, route.label.y - room.height / 2, room.width, room.height)
  }
  return Number.isFinite(minX) ? { x: minX, y: minY, width: maxX - minX, height: maxY - minY } : undefined
}
