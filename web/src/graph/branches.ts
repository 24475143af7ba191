import type { Flow } from '../api.js'
import { END } from './read-flow.js'

/** Where a task is drawn: inside the box of a parallel group, in the branch that starts at `branch`. */
export interface Placement {
  readonly group: string
  readonly branch: string
}

/** Every target a condition routes to. */
function targetsOf(flow: Flow): Map<string, string[]> {
  const routes = new Map<string, string[]>()
  for (const c of flow.conditions) {
    const list = routes.get(c.source_task) ?? []
    for (const t of [c.target_task_success, c.target_task_failure, c.default, ...(c.cases ?? []).map((k) => k.target)]) {
      if (t !== undefined && t !== '' && t !== END) list.push(t)
    }
    routes.set(c.source_task, list)
  }
  return routes
}

/**
 * Which tasks are drawn inside which group's box, as the engine reads a flow: each member of a group
 * starts a branch, and the tasks its conditions reach belong to that branch; the tasks reached from
 * start_task belong to the main line, drawn outside every box. A task claimed twice (a route into
 * or out of a branch, which validation refuses) stays where it was first claimed, so that an
 * invalid flow in the editor still draws, and a group never ends up inside its own box.
 */
export function placeTasks(flow: Flow): Map<string, Placement> {
  const known = new Set(flow.tasks.map((t) => t.name))
  const routes = targetsOf(flow)
  const placed = new Map<string, Placement>()
  const claimed = new Set<string>()
  const memberOf = new Map<string, string>()
  for (const task of flow.tasks) for (const m of task.parallel ?? []) if (known.has(m) && m !== task.name && !memberOf.has(m)) memberOf.set(m, task.name)

  /** The group boxes that hold `task`, innermost first. */
  const ancestors = (task: string): Set<string> => {
    const seen = new Set<string>()
    for (let at = placed.get(task); at !== undefined && !seen.has(at.group); at = placed.get(at.group)) seen.add(at.group)
    return seen
  }
  const claim = (first: string, place: Placement | undefined): void => {
    // A task that holds the group's box already cannot be drawn inside it.
    const outer = place === undefined ? new Set<string>() : new Set([place.group, ...ancestors(place.group)])
    const take = (task: string): void => {
      claimed.add(task)
      if (place !== undefined) placed.set(task, place)
    }
    take(first)
    const stack = [first]
    for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
      for (const target of routes.get(task) ?? []) {
        if (!known.has(target) || claimed.has(target) || memberOf.has(target) || outer.has(target)) continue
        take(target)
        stack.push(target)
      }
    }
  }
  if (known.has(flow.start_task) && !memberOf.has(flow.start_task)) claim(flow.start_task, undefined)
  for (const task of flow.tasks) {
    for (const member of task.parallel ?? []) {
      if (memberOf.get(member) !== task.name || claimed.has(member)) continue
      // A group listed, through its branches, as a member of itself would hold its own box.
      if (ancestors(task.name).has(member)) continue
      claim(member, { group: task.name, branch: member })
    }
  }
  return placed
}
