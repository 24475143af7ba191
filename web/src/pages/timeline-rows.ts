import type { TaskRunView } from '../api.js'

/**
 * The rows of an execution's timeline, as a tree: a row per task of the main line, holding that
 * task's runs (so a retried task's attempts, and its waits between them, sit on one line); under a
 * group's row, a row per branch with its tasks' rows; under a for_each task's row, a row per item.
 */
export interface TimelineRow {
  readonly key: string
  readonly kind: 'task' | 'branch' | 'item'
  /** The task its runs belong to (for a branch: the branch's first task). */
  readonly task: string
  readonly label: string
  readonly runs: TaskRunView[]
  readonly children: TimelineRow[]
}

/** A row as shown: its place in the tree and whether its children are. */
export interface ShownRow {
  readonly row: TimelineRow
  readonly depth: number
  readonly expandable: boolean
  readonly expanded: boolean
}

/** Beyond this many children (items of a for_each task, mostly), a row starts folded. */
export const FOLD_ABOVE = 50

interface Level {
  readonly rows: TimelineRow[]
  readonly byKey: Map<string, TimelineRow>
}
const level = (): Level => ({ rows: [], byKey: new Map() })

/** Builds the tree from runs in seq order; a run whose parent is not known (yet) is placed on the main line. */
export function buildRows(runs: readonly TaskRunView[]): TimelineRow[] {
  const root = level()
  const levels = new Map<TimelineRow, Level>()
  const rowOfSeq = new Map<number, TimelineRow>()
  const inside = (row: TimelineRow): Level => {
    let l = levels.get(row)
    if (l === undefined) levels.set(row, (l = { rows: row.children, byKey: new Map() }))
    return l
  }
  const take = (at: Level, key: string, make: () => TimelineRow): TimelineRow => {
    let row = at.byKey.get(key)
    if (row === undefined) {
      row = make()
      at.byKey.set(key, row)
      at.rows.push(row)
    }
    return row
  }
  for (const run of runs) {
    const parent = run.parent_seq === null ? undefined : rowOfSeq.get(run.parent_seq)
    let row: TimelineRow
    if (parent === undefined) {
      row = take(root, run.task_name, () => ({ key: run.task_name, kind: 'task', task: run.task_name, label: run.task_name, runs: [], children: [] }))
    } else if (run.item_index !== null) {
      const key = `${parent.key}/#${run.item_index}`
      row = take(inside(parent), key, () => ({ key, kind: 'item', task: run.task_name, label: `item ${run.item_index}`, runs: [], children: [] }))
    } else {
      const branchName = run.branch ?? run.task_name
      const branchKey = `${parent.key}/~${branchName}`
      const branch = take(inside(parent), branchKey, () => ({ key: branchKey, kind: 'branch', task: branchName, label: `branch ${branchName}`, runs: [], children: [] }))
      const key = `${branchKey}/${run.task_name}`
      row = take(inside(branch), key, () => ({ key, kind: 'task', task: run.task_name, label: run.task_name, runs: [], children: [] }))
    }
    row.runs.push(run)
    rowOfSeq.set(run.seq, row)
  }
  return root.rows.map(simplify)
}

/** A branch of one task needs no row of its own: its task's row stands in its place. */
function simplify(row: TimelineRow): TimelineRow {
  const children = row.children.map(simplify)
  const only = children[0]
  if (row.kind === 'branch' && children.length === 1 && only !== undefined && only.task === row.task) return only
  return { ...row, children }
}

/** The rows to show, in order: children follow their row unless it is folded (`open` overrides the default). */
export function showRows(rows: readonly TimelineRow[], open: ReadonlyMap<string, boolean>): ShownRow[] {
  const out: ShownRow[] = []
  const walk = (list: readonly TimelineRow[], depth: number): void => {
    for (const row of list) {
      const expandable = row.children.length > 0
      const expanded = expandable && (open.get(row.key) ?? row.children.length <= FOLD_ABOVE)
      out.push({ row, depth, expandable, expanded })
      if (expanded) walk(row.children, depth + 1)
    }
  }
  walk(rows, 0)
  return out
}

/** Every run of a row and of the rows under it: the span a folded row or a branch covers. */
export function spanOf(row: TimelineRow): { start: number; end: number | null } {
  let start = Infinity
  let end: number | null = -Infinity
  const visit = (r: TimelineRow): void => {
    for (const run of r.runs) {
      start = Math.min(start, Date.parse(run.started_at))
      if (run.finished_at === null) end = null
      else if (end !== null) end = Math.max(end, Date.parse(run.finished_at))
    }
    for (const child of r.children) visit(child)
  }
  visit(row)
  return { start, end: end === -Infinity ? null : end }
}
