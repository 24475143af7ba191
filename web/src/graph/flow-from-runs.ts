import type { ExecutionView, Flow, FlowCondition, FlowTask, TaskRunView } from '../api.js'

/**
 * The flow an execution's runs show, for when its definition cannot be read: the tasks that ran,
 * the routes they took, a group for each run of type `parallel` with the branches its runs ran in,
 * and a for_each task for each task that had item runs.
 */
export function flowFromRuns(execution: ExecutionView, runs: readonly TaskRunView[]): Flow {
  const tasks = new Map<string, FlowTask>()
  const bySeq = new Map(runs.map((r) => [r.seq, r]))
  const branches = new Map<string, Set<string>>()
  const forEach = new Set<string>()
  for (const run of runs) {
    if (!tasks.has(run.task_name)) tasks.set(run.task_name, { name: run.task_name, type: run.task_type })
    const parent = run.parent_seq === null ? undefined : bySeq.get(run.parent_seq)
    if (parent === undefined) continue
    if (run.item_index !== null) forEach.add(run.task_name)
    else if (run.branch !== null && parent.task_type === 'parallel') branches.set(parent.task_name, (branches.get(parent.task_name) ?? new Set()).add(run.branch))
  }
  for (const [name, task] of tasks) {
    const members = branches.get(name)
    if (members !== undefined) tasks.set(name, { name, parallel: [...members] })
    else if (forEach.has(name)) tasks.set(name, { ...task, for_each: '…' })
  }
  const bySource = new Map<string, { success?: string; failure?: string }>()
  for (const run of runs) {
    if ((run.status !== 'success' && run.status !== 'failure') || run.next_task === null || run.item_index !== null || run.retry_at !== null) continue
    const entry = bySource.get(run.task_name) ?? {}
    entry[run.status] = run.next_task
    bySource.set(run.task_name, entry)
  }
  const conditions: FlowCondition[] = []
  for (const [source, targets] of bySource) {
    conditions.push({
      name: `after ${source}`,
      source_task: source,
      outcome: 'success',
      ...(targets.success === undefined ? {} : { target_task_success: targets.success }),
      ...(targets.failure === undefined ? {} : { target_task_failure: targets.failure }),
    })
  }
  const first = runs.find((r) => r.parent_seq === null)
  return { id: execution.flow_id, name: execution.flow_id, start_task: first?.task_name ?? '', tasks: [...tasks.values()], conditions }
}
