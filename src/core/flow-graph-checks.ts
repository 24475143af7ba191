import type { FoundExpression } from './condition-checks.js'
import type { Issue } from './errors.js'
import { END, type Flow, type FlowCondition } from './flow-schema.js'
import { pointer } from './json-pointer.js'
import { reachablePairs } from './reachability.js'
import { knownList } from './suggest.js'

/** Every task a condition can route to, `end` included: both targets, or each case's and the default. */
export function conditionTargets(condition: FlowCondition): string[] {
  if (condition.cases !== undefined) return [...condition.cases.map((c) => c.target), condition.default ?? END]
  return [condition.target_task_success ?? END, condition.target_task_failure ?? END]
}

/**
 * Warnings about a structurally valid flow's graph: tasks that can never run, tasks from which no
 * path leads out of the flow (a loop that only the step limit stops), and expressions reading
 * `results.X` where X cannot have run yet. The first two are linear in the size of the flow.
 */
export function analyseGraph(flow: Flow, base: readonly (string | number)[], expressions: readonly FoundExpression[] = []): Issue[] {
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
    for (const target of conditionTargets(condition)) {
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
  // A parallel group leads to the first task of each of its branches.
  const groups: { readonly group: number; readonly members: number[] }[] = []
  flow.tasks.forEach((task, g) => {
    if (task.parallel === undefined) return
    const members = task.parallel.map((m) => index.get(m)).filter((m): m is number => m !== undefined)
    for (const m of members) {
      next[g]?.push(m)
      previous[m]?.push(g)
    }
    groups.push({ group: g, members })
  })
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
  warnings.push(...unavailableResults(flow, base, expressions, index, afterBranches(next, groups)))
  return warnings
}

/**
 * RESULT_MAYBE_UNAVAILABLE: `results.X` read where X cannot have run on any path to that point.
 * X may have run before task T runs (input mapping) when some path of one or more edges leads
 * from X to T; when T's condition decides, also when X is T itself. All these questions are
 * answered together (reachability.ts), in time linear in the flow for the flows people write.
 * A reference guarded by `has(results.X)` is fine.
 */
function unavailableResults(
  flow: Flow,
  base: readonly (string | number)[],
  expressions: readonly FoundExpression[],
  index: ReadonlyMap<string, number>,
  next: readonly number[][],
): Issue[] {
  const asked: { expression: FoundExpression; task: string; pair: readonly [number, number] }[] = []
  for (const e of expressions) {
    const t = e.task === undefined ? undefined : index.get(e.task)
    if (t === undefined) continue
    for (const ref of e.references) {
      const x = index.get(ref.task)
      if (x === undefined || ref.guarded || (e.at === 'condition' && x === t)) continue
      asked.push({ expression: e, task: ref.task, pair: [x, t] })
    }
  }
  if (asked.length === 0) return []
  const reachable = reachablePairs(flow.tasks.length, next, asked.map((a) => a.pair))
  const warnings: Issue[] = []
  asked.forEach(({ expression: e, task }, i) => {
    if (reachable[i] === true) return
    const when = e.at === 'condition' ? `when the condition after task "${e.task ?? ''}" decides` : `before task "${e.task ?? ''}" runs`
    warnings.push({
      code: 'RESULT_MAYBE_UNAVAILABLE',
      path: pointer([...base, ...e.rel]),
      message: `results.${task} is read ${when}, but no path runs task "${task}" before that point, so evaluation fails with "no such key"; fix the flow, or test has(results.${task}) first`,
    })
  })
  return warnings
}

/**
 * The tasks a group routes to after its join run after every task of its branches: for the
 * question "can X have run before T", each branch task gets an edge to each of them.
 */
function afterBranches(next: readonly number[][], groups: readonly { group: number; members: number[] }[]): number[][] {
  if (groups.length === 0) return next as number[][]
  const out = next.map((n) => [...n])
  for (const { group, members } of groups) {
    const inBranches = walk(members, next, next.length)
    const successors = (next[group] ?? []).filter((s) => !members.includes(s))
    inBranches.forEach((yes, i) => {
      if (yes) out[i]?.push(...successors)
    })
  }
  return out
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
