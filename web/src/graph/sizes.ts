import type { NodeKind } from './model.js'

/** The size each kind of node is drawn at, in graph units (CSS pixels at zoom 1). */
export const NODE_SIZE: Record<NodeKind, { width: number; height: number }> = {
  start: { width: 20, height: 20 },
  task: { width: 184, height: 64 },
  missing: { width: 184, height: 64 },
  end: { width: 72, height: 36 },
  // A group's box is as large as its branches; this is its least size (an empty group in the editor).
  group: { width: 200, height: 96 },
}

/** Room inside a group's box around its branches; the top holds the group's name and state. */
export const GROUP_PADDING = { top: 40, left: 14, bottom: 14, right: 14 } as const
