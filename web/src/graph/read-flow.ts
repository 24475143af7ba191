import type { Flow, FlowCondition, FlowTask } from '../api.js'

/** The name a condition uses for the end of the flow (or, inside a branch, of the branch). */
export const END = 'end'

type Lenient<T> = { -readonly [K in keyof T]?: unknown }
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined)

/** What a task's drawing needs beyond its name: its type, description, and whether it is a group or a for_each task. */
function readTask(task: Lenient<FlowTask>, name: string): FlowTask {
  const type = str(task.type)
  const description = str(task.description)
  const members = Array.isArray(task.parallel) ? (task.parallel as unknown[]).map(str).filter((m): m is string => m !== undefined) : undefined
  const forEach = str(task.for_each)
  const limit = typeof task.max_concurrency === 'number' ? task.max_concurrency : undefined
  return {
    name,
    ...(type === undefined ? {} : { type }),
    ...(description === undefined ? {} : { description }),
    ...(members === undefined ? {} : { parallel: members }),
    ...(task.join === 'all' || task.join === 'any' ? { join: task.join } : {}),
    ...(limit === undefined ? {} : { max_concurrency: limit }),
    ...(forEach === undefined ? {} : { for_each: forEach }),
  }
}

function readCondition(c: Lenient<FlowCondition>, source: string): FlowCondition {
  const success = str(c.target_task_success)
  const failure = str(c.target_task_failure)
  const when = str(c.when)
  const fallback = str(c.default)
  const cases = (Array.isArray(c.cases) ? (c.cases as unknown[]) : []).filter(isRecord).map((k) => ({ when: str(k.when) ?? '?', target: str(k.target) ?? '' }))
  return {
    name: str(c.name) ?? `after ${source}`,
    source_task: source,
    ...(c.outcome === 'success' || c.outcome === 'failure' ? { outcome: c.outcome } : {}),
    ...(when === undefined ? {} : { when }),
    ...(success === undefined ? {} : { target_task_success: success }),
    ...(failure === undefined ? {} : { target_task_failure: failure }),
    ...(Array.isArray(c.cases) ? { cases } : {}),
    ...(fallback === undefined ? {} : { default: fallback }),
  }
}

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
    tasks.push(readTask(task, name))
  }
  const conditions: FlowCondition[] = []
  const sources = new Set<string>()
  for (const entry of Array.isArray(flow.conditions) ? (flow.conditions as unknown[]) : []) {
    if (!isRecord(entry)) continue
    const c = entry as Lenient<FlowCondition>
    const source = str(c.source_task)
    if (source === undefined || sources.has(source)) continue
    sources.add(source)
    conditions.push(readCondition(c, source))
  }
  return { id: str(flow.id) ?? '', name: str(flow.name) ?? '', start_task: str(flow.start_task) ?? '', tasks, conditions }
}
