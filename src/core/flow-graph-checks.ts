import type { Issue } from './errors.js'
import { END, type Flow } from './flow-schema.js'
import { pointer } from './json-pointer.js'
import { knownList } from './suggest.js'

/**
 * Warnings about a structurally valid flow's graph: tasks that can never run, and tasks from
 * which no path leads out of the flow (a loop that only the step limit stops). Linear in the
 * size of the flow.
 */
export function analyseGraph(flow: Flow, base: readonly (string | number)[]): Issue[] {
  const index = new Map<string, number>()
  flow.tasks.forEach((task, i) => index.set(task.name, i))
  const n = flow.tasks.length
  const next: number[][] = Array.from({ length: n }, () => [])
  const previous: number[][] = Array.from({ length: n }, () => [])
  const exits = new Array<boolean>(n).fill(true)
  for (const condition of flow.conditions) {
    const source = index.get(condition.source_task)
    if (source === undefined) continue
    exits[source] = false
    for (const target of [condition.target_task_success, condition.target_task_failure]) {
      if (target === END) {
        exits[source] = true
        continue
      }
      const t = index.get(target)
      if (t === undefined) continue
      next[source]?.push(t)
      previous[t]?.push(source)
    }
  }
  const start = index.get(flow.start_task)
  const reachable = walk(start === undefined ? [] : [start], next, n)
  const exitTasks: number[] = []
  exits.forEach((isExit, i) => {
    if (isExit) exitTasks.push(i)
  })
  const canFinish = walk(exitTasks, previous, n)

  const warnings: Issue[] = []
  const trapped: number[] = []
  for (let i = 0; i < n; i++) {
    const name = flow.tasks[i]?.name ?? ''
    if (!reachable[i]) {
      warnings.push({
        code: 'UNREACHABLE_TASK',
        path: pointer([...base, 'tasks', i]),
        message: `task "${name}" can never run: no condition leads to it from start_task "${flow.start_task}"`,
      })
    } else if (!canFinish[i]) {
      trapped.push(i)
    }
  }
  const first = trapped[0]
  if (first !== undefined) {
    const names = trapped.map((i) => flow.tasks[i]?.name ?? '')
    warnings.push({
      code: 'CYCLE_WITHOUT_EXIT',
      path: pointer([...base, 'tasks', first]),
      message: `no path out of the flow from task${names.length > 1 ? 's' : ''} ${knownList(names)}: every route loops back, so an execution that gets there fails when it reaches max_steps`,
    })
  }
  return warnings
}

function walk(from: readonly number[], edges: readonly number[][], n: number): boolean[] {
  const seen = new Array<boolean>(n).fill(false)
  const stack = [...from]
  for (const i of from) seen[i] = true
  for (let i = stack.pop(); i !== undefined; i = stack.pop()) {
    for (const j of edges[i] ?? []) {
      if (!seen[j]) {
        seen[j] = true
        stack.push(j)
      }
    }
  }
  return seen
}
