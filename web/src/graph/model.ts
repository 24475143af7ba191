import type { ExecutionView, Flow, FlowCondition, FlowTask, TaskRunView } from '../api.js'

/**
 * Flows and executions as graphs, independent of drawing: tasks are nodes, each condition gives two
 * edges (the branch taken when the source task's status equals `outcome`, and the other), `end` is
 * a terminal. An execution adds a state to each node and marks the edges its runs took.
 */

export const NODE_STATES = ['idle', 'pending', 'running', 'succeeded', 'failed', 'retried', 'skipped', 'interrupted'] as const
export type NodeState = (typeof NODE_STATES)[number]

export type NodeKind = 'start' | 'task' | 'end' | 'missing'

export interface GraphNode {
  readonly id: string
  readonly kind: NodeKind
  /** The task name (or "end"). */
  readonly label: string
  readonly type?: string
  readonly description?: string
  readonly state: NodeState
  /** Task runs of this task in the execution. */
  readonly runs: number
  /** The highest attempt number among its runs. */
  readonly attempts: number
  /** When the current run started, for a running node's timer. */
  readonly runningSince?: string
  /** Duration of its latest finished run. */
  readonly durationMs?: number
  readonly error?: string
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
export const END = 'end'
export const taskNodeId = (name: string): string => `task:${name}`
const targetId = (name: string): string => (name === END ? END_ID : taskNodeId(name))

type Lenient<T> = { -readonly [K in keyof T]?: unknown }
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined)

/**
 * Reads whatever graph a document describes, however invalid: the editor draws as the user types.
 * Entries without a usable name or source are left out; the validator reports them.
 */
export function readFlow(document: unknown): Flow | undefined {
  const raw: unknown = isRecord(document) && isRecord(document.flow) ? document.flow : document
  if (!isRecord(raw)) return undefined
  const flow = raw as Lenient<Flow>
  const tasks: FlowTask[] = []
  const seen = new Set<string>()
  for (const entry of Array.isArray(flow.tasks) ? (flow.tasks as unknown[]) : []) {
    if (!isRecord(entry)) continue
    const task = entry as Lenient<FlowTask>
    const name = str(task.name)
    if (name === undefined || seen.has(name) || name === END) continue
    seen.add(name)
    const type = str(task.type)
    const description = str(task.description)
    tasks.push({ name, ...(type === undefined ? {} : { type }), ...(description === undefined ? {} : { description }) })
  }
  const conditions: FlowCondition[] = []
  const sources = new Set<string>()
  for (const entry of Array.isArray(flow.conditions) ? (flow.conditions as unknown[]) : []) {
    if (!isRecord(entry)) continue
    const c = entry as Lenient<FlowCondition>
    const source = str(c.source_task)
    if (source === undefined || sources.has(source)) continue
    sources.add(source)
    const success = str(c.target_task_success)
    const failure = str(c.target_task_failure)
    const when = str(c.when)
    const fallback = str(c.default)
    const cases = (Array.isArray(c.cases) ? (c.cases as unknown[]) : [])
      .filter(isRecord)
      .map((k) => ({ when: str(k.when) ?? '?', target: str(k.target) ?? '' }))
    conditions.push({
      name: str(c.name) ?? `after ${source}`,
      source_task: source,
      ...(c.outcome === 'success' || c.outcome === 'failure' ? { outcome: c.outcome } : {}),
      ...(when === undefined ? {} : { when }),
      ...(success === undefined ? {} : { target_task_success: success }),
      ...(failure === undefined ? {} : { target_task_failure: failure }),
      ...(Array.isArray(c.cases) ? { cases } : {}),
      ...(fallback === undefined ? {} : { default: fallback }),
    })
  }
  return { id: str(flow.id) ?? '', name: str(flow.name) ?? '', start_task: str(flow.start_task) ?? '', tasks, conditions }
}

interface Branch {
  readonly id: string
  readonly target: string
  readonly label: string
  /** For status conditions: the source status that takes this branch. */
  readonly status?: 'success' | 'failure'
}

/** Longest expression shown on an edge. */
const MAX_LABEL = 40
const clip = (text: string): string => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text)

/** The edges a condition adds (SPEC §2.4 and the README's data conditions); a missing target is `end`. */
function branchesOf(c: FlowCondition, index: number): Branch[] {
  if (c.cases !== undefined) {
    return [
      ...c.cases.map((k, i) => ({ id: `c${index}:case${i}`, target: k.target === '' ? END : k.target, label: clip(k.when) })),
      { id: `c${index}:default`, target: c.default ?? END, label: 'default' },
    ]
  }
  if (c.when !== undefined) {
    return [
      { id: `c${index}:match`, target: c.target_task_success ?? END, label: clip(c.when) },
      { id: `c${index}:other`, target: c.target_task_failure ?? END, label: 'else' },
    ]
  }
  const outcome = c.outcome ?? 'success'
  const other = outcome === 'success' ? 'failure' : 'success'
  return [
    { id: `c${index}:match`, target: c.target_task_success ?? END, label: outcome, status: outcome },
    { id: `c${index}:other`, target: c.target_task_failure ?? END, label: other, status: other },
  ]
}

/** The graph of a definition, with every node idle. */
export function flowGraph(flow: Flow): GraphModel {
  return build(flow, undefined)
}

/**
 * The graph of an execution. Without its definition (an inline flow run elsewhere), the graph is
 * drawn from the task runs alone: the path taken, without the branches not taken.
 */
export function executionGraph(flow: Flow | undefined, execution: ExecutionView): GraphModel {
  return build(flow ?? flowFromRuns(execution), execution)
}

function flowFromRuns(execution: ExecutionView): Flow {
  const runs = execution.task_results
  const tasks: FlowTask[] = []
  const seen = new Set<string>()
  const conditions: FlowCondition[] = []
  for (const run of runs) {
    if (!seen.has(run.task_name)) {
      seen.add(run.task_name)
      tasks.push({ name: run.task_name, type: run.task_type })
    }
  }
  const bySource = new Map<string, { success?: string; failure?: string }>()
  for (const run of runs) {
    if ((run.status !== 'success' && run.status !== 'failure') || run.next_task === null) continue
    const entry = bySource.get(run.task_name) ?? {}
    entry[run.status] = run.next_task
    bySource.set(run.task_name, entry)
  }
  for (const [source, targets] of bySource) {
    conditions.push({
      name: `after ${source}`,
      source_task: source,
      outcome: 'success',
      ...(targets.success === undefined ? {} : { target_task_success: targets.success }),
      ...(targets.failure === undefined ? {} : { target_task_failure: targets.failure }),
    })
  }
  return { id: execution.flow_id, name: execution.flow_id, start_task: runs[0]?.task_name ?? '', tasks, conditions }
}

function taskState(runs: readonly TaskRunView[], executionEnded: boolean): NodeState {
  const latest = runs[runs.length - 1]
  if (latest === undefined) return executionEnded ? 'skipped' : 'pending'
  if (latest.status === 'running') return 'running'
  if (latest.status === 'failure') return 'failed'
  if (latest.status === 'interrupted') return executionEnded ? 'interrupted' : 'retried'
  const retried = latest.attempt > 1 || runs.some((r) => r.status !== 'success')
  return retried ? 'retried' : 'succeeded'
}

function build(flow: Flow, execution: ExecutionView | undefined): GraphModel {
  const ended = execution !== undefined && ['completed', 'failed', 'cancelled'].includes(execution.status)
  const runsByTask = new Map<string, TaskRunView[]>()
  for (const run of execution?.task_results ?? []) {
    const list = runsByTask.get(run.task_name) ?? []
    list.push(run)
    runsByTask.set(run.task_name, list)
  }

  const known = new Set(flow.tasks.map((t) => t.name))
  const nodes: GraphNode[] = [{ id: START_ID, kind: 'start', label: 'start', state: execution === undefined ? 'idle' : 'succeeded', runs: 0, attempts: 0 }]
  for (const task of flow.tasks) {
    const runs = runsByTask.get(task.name) ?? []
    const latest = runs[runs.length - 1]
    const finished = [...runs].reverse().find((r) => r.duration_ms !== null)
    nodes.push({
      id: taskNodeId(task.name),
      kind: 'task',
      label: task.name,
      ...(task.type !== undefined && task.type !== task.name ? { type: task.type } : {}),
      ...(task.description === undefined ? {} : { description: task.description }),
      state: execution === undefined ? 'idle' : taskState(runs, ended),
      runs: runs.length,
      attempts: runs.reduce((max, r) => Math.max(max, r.attempt), 0),
      ...(latest?.status === 'running' ? { runningSince: latest.started_at } : {}),
      ...(finished?.duration_ms == null ? {} : { durationMs: finished.duration_ms }),
      ...(latest?.error == null ? {} : { error: latest.error }),
    })
  }

  const edges: GraphEdge[] = []
  const missing = new Set<string>()
  const addTarget = (name: string): void => {
    if (name !== END && !known.has(name)) missing.add(name)
  }
  if (flow.start_task !== '') {
    addTarget(flow.start_task)
    edges.push({ id: 'start', source: START_ID, target: targetId(flow.start_task), label: '', title: 'start_task', taken: (execution?.task_results.length ?? 0) > 0 })
  }

  // Which branch each finished run took: the edge to its next_task (for status conditions, the
  // one its status picks when both branches lead to the same task). A run that was retried took none.
  const taken = new Set<string>()
  const conditionOf = new Map(flow.conditions.map((c, i) => [c.source_task, branchesOf(c, i)]))
  const runs = execution?.task_results ?? []
  let reachedEnd = false
  runs.forEach((run, i) => {
    if ((run.status !== 'success' && run.status !== 'failure') || run.next_task === null) return
    const later = runs[i + 1]
    if (later !== undefined && later.task_name === run.task_name && later.attempt > run.attempt) return
    const branches = (conditionOf.get(run.task_name) ?? []).filter((b) => b.target === run.next_task)
    const branch = branches.find((b) => b.status === run.status) ?? branches[0]
    if (branch === undefined) return
    taken.add(branch.id)
    if (branch.target === END) reachedEnd = true
  })

  let usesEnd = false
  flow.conditions.forEach((c, i) => {
    addTarget(c.source_task)
    for (const branch of branchesOf(c, i)) {
      addTarget(branch.target)
      if (branch.target === END) usesEnd = true
      edges.push({
        id: branch.id,
        source: taskNodeId(c.source_task),
        target: targetId(branch.target),
        label: branch.label,
        title: `${c.name}: ${branch.status === undefined ? branch.label : `${c.source_task} ${branch.status === 'success' ? 'succeeded' : 'failed'}`} → ${branch.target}`,
        taken: taken.has(branch.id),
      })
    }
  })
  for (const name of missing) nodes.push({ id: taskNodeId(name), kind: 'missing', label: name, state: 'idle', runs: 0, attempts: 0 })
  if (usesEnd) {
    const state: NodeState = !reachedEnd ? (execution === undefined ? 'idle' : ended ? 'skipped' : 'pending') : execution?.status === 'failed' ? 'failed' : 'succeeded'
    nodes.push({ id: END_ID, kind: 'end', label: END, state, runs: 0, attempts: 0 })
  }
  return { nodes, edges }
}

/** What decides the layout: node ids and edge endpoints, not states. Equal keys reuse a layout. */
export function structureKey(model: GraphModel): string {
  return JSON.stringify([model.nodes.map((n) => [n.id, n.kind, n.type ?? '']), model.edges.map((e) => [e.id, e.source, e.target, e.label])])
}
