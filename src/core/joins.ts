import { startBranches, startItems } from './begin-run.js'
import { withJoin, type BranchOutcome, type GroupJoin, type ItemsJoin, type Thread } from './execution-state.js'
import type { PlanTask } from './plan.js'
import type { TaskFailure, TaskResult } from './task-result.js'
import type { Transition } from './transition.js'

/**
 * A branch of `group` ended. `all`: a failure decides (the other branches are cancelled and the
 * group fails); `any`: a success decides (the others are cancelled and the group succeeds).
 * Otherwise the next queued branch starts, and the group joins once no branch is left.
 */
export function branchEnded(t: Transition, group: Thread, branch: Thread, status: 'success' | 'failure', error: TaskFailure | null): void {
  const mode = (t.plan.tasks.get(group.task) as PlanTask).group?.join ?? 'all'
  const join = group.join as GroupJoin
  const first = branch.branch ?? branch.task
  const ended: BranchOutcome = branch.phase === 'group' ? { first, last: branch.task, status, inner: branch.join as GroupJoin } : { first, last: branch.task, status }
  const outcomes = [...join.outcomes, ended]
  const where = `branch "${first}" of group "${group.task}"`
  if ((mode === 'all' && status === 'failure') || (mode === 'any' && status === 'success')) {
    const why = status === 'failure' ? `${where} failed` : `${where} succeeded first`
    for (const other of t.children(group.id)) {
      outcomes.push(cutOutcome(t, other))
      t.stopTree(other, 'BRANCH_CANCELLED', `cancelled because ${why}`)
    }
    const message = status === 'failure' ? `${where} failed at task "${branch.task}": ${error?.message ?? 'no reason given'}` : ''
    joined(t, withJoin(group, { kind: 'group', queue: join.queue, outcomes }), status, message)
    return
  }
  const current = withJoin(group, { kind: 'group', queue: join.queue, outcomes })
  t.put(current)
  startBranches(t, current)
  const after = t.find(group.id)
  if (after === undefined || !t.running || t.children(group.id).length > 0 || (after.join as GroupJoin).queue.length > 0) return
  if (mode === 'all') joined(t, after, 'success', '')
  else joined(t, after, 'failure', `every branch of group "${group.task}" failed; the last, "${first}", at task "${branch.task}": ${error?.message ?? 'no reason given'}`)
}

/** How a branch stood when it was cancelled; inside a nested group, how its own branches stood. */
function cutOutcome(t: Transition, thread: Thread): BranchOutcome {
  const first = thread.branch ?? thread.task
  if (thread.phase !== 'group') return { first, last: thread.task, status: 'cancelled' }
  const join = thread.join as GroupJoin
  const inner: GroupJoin = { ...join, outcomes: [...join.outcomes, ...t.children(thread.id).map((c) => cutOutcome(t, c))] }
  return { first, last: thread.task, status: 'cancelled', inner }
}

/** The group's own run ends: its data maps each finished branch to the data of its last task run. */
function joined(t: Transition, group: Thread, status: 'success' | 'failure', message: string): void {
  const join = group.join as GroupJoin
  const value: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  let bytes = 2
  for (const outcome of join.outcomes) {
    if (outcome.status === 'cancelled') continue
    const result = t.result(outcome.last)
    Object.defineProperty(value, outcome.first, { value: result?.data ?? null, enumerable: true, writable: true, configurable: true })
    bytes += t.size(outcome.last) + outcome.first.length + 4
  }
  t.put(group)
  settleJoined(t, group, status, message, 'BRANCH_FAILED', value, bytes)
}

/** An item run of a for_each ended for good: a failure fails the task at once, the last success completes it. */
export function itemEnded(t: Transition, item: Thread, result: TaskResult): void {
  t.remove(item.id)
  const parent = item.parent === null ? undefined : t.find(item.parent)
  if (parent === undefined || parent.join?.kind !== 'items') return
  const join: ItemsJoin = parent.join
  if (result.status === 'failure') {
    const why = `item ${String(item.item)} of task "${parent.task}" failed`
    for (const other of t.children(parent.id)) t.stopTree(other, 'ITEM_CANCELLED', `cancelled because ${why}`)
    settleJoined(t, parent, 'failure', `${why}: ${result.error.message}`, 'ITEM_FAILED', null, 0)
    return
  }
  const current = withJoin(parent, { kind: 'items', total: join.total, next: join.next, done: join.done + 1 })
  t.put(current)
  if (join.done + 1 < join.total) {
    startItems(t, current)
    return
  }
  const fanout = t.base.fanouts?.get(parent.seq)
  const value = Array.from({ length: join.total }, (_, i) => fanout?.data[i] ?? null)
  settleJoined(t, current, 'success', '', 'ITEM_FAILED', value, (fanout?.bytes ?? 0) + join.total + 2)
}

function settleJoined(t: Transition, thread: Thread, status: 'success' | 'failure', message: string, code: string, value: unknown, bytes: number): void {
  if (status === 'success' && bytes > t.plan.dataLimit) {
    status = 'failure'
    code = 'DATA_TOO_LARGE'
    message = `the data of task "${thread.task}" together is about ${bytes} bytes, over the data limit of ${t.plan.dataLimit}`
    value = null
    bytes = 0
  }
  const error = status === 'failure' ? { message, code, retryable: false } : null
  const view = { status, data: value, error: error?.message ?? null }
  t.pending.push({
    thread: thread.id,
    result: error === null ? { status: 'success', data: value } : { status: 'failure', error },
    data: { from: 'value', value, view, bytes },
  })
}
