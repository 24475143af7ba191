import type { ExecutionView, Flow, FlowTask, TaskRunView } from '../api.js'
import { EMPTY_RUNS, isEnded, itemProgress, retryPending, waitOf, type ItemProgress, type RunIndex } from '../runs.js'
import { childOf, type Wait } from '../waits.js'
import { placeTasks } from './branches.js'
import { branchesOf } from './condition-edges.js'
import { flowFromRuns } from './flow-from-runs.js'
import { END } from './read-flow.js'

/**
 * Flows and executions as graphs, independent of drawing: tasks are nodes, each condition gives two
 * edges (the branch taken when the source task's status equals `outcome`, and the other), `end` is
 * a terminal. A parallel group is a node that holds the tasks of its branches (`parent`), with an
 * `end` of its own for the routes that end a branch. An execution adds a state to each node and
 * marks the edges its runs took.
 */

export const NODE_STATES = ['idle', 'pending', 'running', 'waiting', 'retrying', 'succeeded', 'failed', 'retried', 'skipped', 'interrupted'] as const
export type NodeState = (typeof NODE_STATES)[number]

export type NodeKind = 'start' | 'task' | 'group' | 'end' | 'missing'

export interface GraphNode {
  readonly id: string
  readonly kind: NodeKind
  /** The task name (or "end"). */
  readonly label: string
  readonly type?: string
  readonly description?: string
  readonly state: NodeState
  /** Task runs of this task in the execution (item runs of a for_each task aside). */
  readonly runs: number
  /** The highest attempt number among its runs. */
  readonly attempts: number
  /** When the current run started, for a running node's timer. */
  readonly runningSince?: string
  /** Duration of its latest finished run. */
  readonly durationMs?: number
  readonly error?: string
  /** The node id of the group whose box holds it. */
  readonly parent?: string
  /** For a parallel group: how it joins, its limit, and the first task of each branch. */
  readonly group?: { readonly join: 'all' | 'any'; readonly maxConcurrency: number | undefined; readonly branches: readonly string[] }
  /** For a for_each task: its list expression, and how far the latest run's items are. */
  readonly forEach?: string
  readonly items?: ItemProgress
  /** What its latest run waits for: a planned retry, a timer, a signal, a child execution. */
  readonly wait?: Wait
  /** The child execution its latest run started (a subflow task). */
  readonly child?: string
}

export interface GraphEdge {
  readonly id: string
  readonly source: string
  readonly target: string
  /** What leads here: "success"/"failure", an expression, "else" or "default" (empty for the start edge). */
  readonly label: string
  /** Which condition it belongs to, for a tooltip. */
  readonly title: string
  readonly taken: boolean
}

export interface GraphModel {
  readonly nodes: readonly GraphNode[]
  readonly edges: readonly GraphEdge[]
}

export const START_ID = '__start'
export const END_ID = '__end'
export { END }
export const taskNodeId = (name: string): string => `task:${name}`
/** The `end` drawn inside a group's box: where a route ends its branch. */
export const branchEndId = (group: string): string => `__branch-end:${group}`

/** The graph of a definition, with every node idle. */
export function flowGraph(flow: Flow): GraphModel {
  return build(flow, undefined)
}

/**
 * The graph of an execution, from the runs the page knows (all of them once loaded). Without its
 * definition, the graph is drawn from the task runs alone: the path taken, without the branches
 * not taken.
 */
export function executionGraph(flow: Flow | undefined, execution: ExecutionView, index: RunIndex): GraphModel {
  return build(flow ?? flowFromRuns(execution, index.runs), { view: execution, index })
}

function taskState(own: readonly TaskRunView[], index: RunIndex, ended: boolean): GraphNode['state'] {
  const latest = own[own.length - 1]
  if (latest === undefined) return ended ? 'skipped' : 'pending'
  switch (latest.status) {
    case 'running':
      return 'running'
    case 'waiting':
      return 'waiting'
    case 'failure':
      return retryPending(latest, index, ended) ? 'retrying' : 'failed'
    case 'interrupted':
      return ended ? 'interrupted' : 'retried'
    case 'success':
      return latest.attempt > 1 || own.some((r) => r.status !== 'success') ? 'retried' : 'succeeded'
  }
}

/** A task's node: its definition, and in an execution its state from its runs. */
function taskNode(task: FlowTask, parent: string | undefined, runs: { own: readonly TaskRunView[]; items: ReadonlyMap<number, TaskRunView[]> } | undefined, index: RunIndex, ended: boolean): GraphNode {
  const own = runs?.own ?? []
  const latest = own[own.length - 1]
  const finished = [...own].reverse().find((r) => r.duration_ms !== null)
  const itemRuns = latest === undefined ? undefined : runs?.items.get(latest.seq)
  const wait = latest === undefined ? undefined : waitOf(latest, task, index, ended)
  const child = latest === undefined ? undefined : childOf(latest)
  const group = task.parallel === undefined ? undefined : { join: task.join ?? 'all', maxConcurrency: task.max_concurrency, branches: task.parallel }
  return {
    id: taskNodeId(task.name),
    kind: group === undefined ? 'task' : 'group',
    label: task.name,
    ...(task.type !== undefined && task.type !== task.name ? { type: task.type } : {}),
    ...(task.description === undefined ? {} : { description: task.description }),
    state: runs === undefined ? 'idle' : taskState(own, index, ended),
    runs: own.length,
    attempts: own.reduce((max, r) => Math.max(max, r.attempt), 0),
    ...(latest?.status === 'running' ? { runningSince: latest.started_at } : {}),
    ...(finished?.duration_ms == null ? {} : { durationMs: finished.duration_ms }),
    ...(latest?.error == null ? {} : { error: latest.error }),
    ...(parent === undefined ? {} : { parent }),
    ...(group === undefined ? {} : { group }),
    ...(task.for_each === undefined ? {} : { forEach: task.for_each }),
    ...(latest !== undefined && (task.for_each !== undefined || itemRuns !== undefined) ? { items: itemProgress(latest, itemRuns ?? [], index, ended) } : {}),
    ...(wait === undefined ? {} : { wait }),
    ...(child === undefined ? {} : { child }),
  }
}

function build(flow: Flow, execution: { view: ExecutionView; index: RunIndex } | undefined): GraphModel {
  const index = execution?.index
  const ended = execution !== undefined && isEnded(execution.view.status)
  const runsByTask = new Map<string, { own: TaskRunView[]; items: Map<number, TaskRunView[]> }>()
  for (const run of index?.runs ?? []) {
    let entry = runsByTask.get(run.task_name)
    if (entry === undefined) runsByTask.set(run.task_name, (entry = { own: [], items: new Map() }))
    if (run.item_index === null || run.parent_seq === null) entry.own.push(run)
    else entry.items.set(run.parent_seq, [...(entry.items.get(run.parent_seq) ?? []), run])
  }

  const placed = placeTasks(flow)
  const boxOf = (task: string): string | undefined => {
    const group = placed.get(task)?.group
    return group === undefined ? undefined : taskNodeId(group)
  }
  const known = new Set(flow.tasks.map((t) => t.name))
  const nodes: GraphNode[] = [{ id: START_ID, kind: 'start', label: 'start', state: execution === undefined ? 'idle' : 'succeeded', runs: 0, attempts: 0 }]
  for (const task of flow.tasks) nodes.push(taskNode(task, boxOf(task.name), execution === undefined ? undefined : (runsByTask.get(task.name) ?? { own: [], items: new Map() }), index ?? EMPTY_RUNS, ended))

  const edges: GraphEdge[] = []
  const missing = new Set<string>()
  /** Groups whose box needs an `end` (some route in it ends a branch); '' is the flow's own end. */
  const ends = new Set<string>()
  /** Where a route from `source` to `target` leads: `end` inside a branch ends that branch. */
  const targetOf = (source: string | undefined, target: string): string => {
    if (target !== END) {
      if (!known.has(target)) missing.add(target)
      return taskNodeId(target)
    }
    const group = source === undefined ? undefined : placed.get(source)?.group
    ends.add(group ?? '')
    return group === undefined ? END_ID : branchEndId(group)
  }
  const runs = index?.runs ?? []
  if (flow.start_task !== '') {
    edges.push({ id: 'start', source: START_ID, target: targetOf(undefined, flow.start_task), label: '', title: 'start_task', taken: runs.length > 0 })
  }

  // Which branch each finished run took: the edge to its next_task (for status conditions, the
  // one its status picks when both branches lead to the same task). A retried attempt took none.
  const taken = new Set<string>()
  const reached = new Set<string>()
  const conditionOf = new Map(flow.conditions.map((c, i) => [c.source_task, branchesOf(c, i)]))
  for (const run of runs) {
    if ((run.status !== 'success' && run.status !== 'failure') || run.next_task === null || run.item_index !== null || run.retry_at !== null) continue
    const branches = (conditionOf.get(run.task_name) ?? []).filter((b) => b.target === run.next_task)
    const branch = branches.find((b) => b.status === run.status) ?? branches[0]
    if (branch === undefined) continue
    taken.add(branch.id)
    if (branch.target === END) reached.add(placed.get(run.task_name)?.group ?? '')
  }

  flow.conditions.forEach((c, i) => {
    if (!known.has(c.source_task)) missing.add(c.source_task)
    for (const branch of branchesOf(c, i)) {
      edges.push({
        id: branch.id,
        source: taskNodeId(c.source_task),
        target: targetOf(c.source_task, branch.target),
        label: branch.label,
        title: `${c.name}: ${branch.status === undefined ? branch.label : `${c.source_task} ${branch.status === 'success' ? 'succeeded' : 'failed'}`} → ${branch.target}`,
        taken: taken.has(branch.id),
      })
    }
  })
  for (const name of missing) nodes.push({ id: taskNodeId(name), kind: 'missing', label: name, state: 'idle', runs: 0, attempts: 0 })
  const endState = (group: string): GraphNode['state'] => {
    if (!reached.has(group)) return execution === undefined ? 'idle' : ended ? 'skipped' : 'pending'
    return group === '' && execution?.view.status === 'failed' ? 'failed' : 'succeeded'
  }
  for (const group of ends) {
    if (group === '') nodes.push({ id: END_ID, kind: 'end', label: END, state: endState(''), runs: 0, attempts: 0 })
    else nodes.push({ id: branchEndId(group), kind: 'end', label: END, description: `the end of a branch of ${group}`, state: endState(group), runs: 0, attempts: 0, parent: taskNodeId(group) })
  }
  return { nodes, edges }
}

/** What decides the layout: node ids, nesting and edge endpoints, not states. Equal keys reuse a layout. */
export function structureKey(model: GraphModel): string {
  return JSON.stringify([model.nodes.map((n) => [n.id, n.kind, n.type ?? '', n.parent ?? '']), model.edges.map((e) => [e.id, e.source, e.target, e.label])])
}
