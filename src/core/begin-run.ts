import type { StartRun, StepScope } from './commands.js'
import { toJsonValue } from './expression.js'
import { makeThread, withJoin, withPhase, type GroupJoin, type Thread } from './execution-state.js'
import { MAX_FOR_EACH_ITEMS } from './flow-schema.js'
import { renderInput } from './input-mapping.js'
import type { PlanTask } from './plan.js'
import { describe } from './routing.js'
import { firstIssue, SubflowInput, WaitForSignalInput, WaitInput } from './system-tasks.js'
import type { TaskFailure } from './task-result.js'
import type { Transition } from './transition.js'

/** A new thread's identity, before it enters its first task. */
export interface Seed {
  readonly id: number
  readonly parent: number | null
  readonly branch: string | null
  readonly item: number | null
  readonly crashes: number
}

export function seed(t: Transition, parent: number | null, branch: string | null, item: number | null = null): Seed {
  return { id: t.nextThread++, parent, branch, item, crashes: 0 }
}

/** A thread goes to `name`: one more step, then the task's run begins (`inner`: a group revived by a resume). */
export function enter(t: Transition, s: Seed, name: string, inner?: GroupJoin): void {
  const task = t.plan.tasks.get(name)
  if (task === undefined) {
    // parseFlow rules this out; kept so that a corrupted record fails the execution instead of the engine.
    t.stopAll('failed', { code: 'ENGINE_ERROR', message: `the flow has no task "${name}"` })
    return
  }
  if (t.steps - t.stepBase >= t.plan.maxSteps) {
    t.stopAll('failed', {
      code: 'STEP_LIMIT_EXCEEDED',
      message: `the execution reached max_steps (${t.plan.maxSteps}) before task "${name}" could run; raise max_steps or break the loop`,
    })
    return
  }
  t.steps += 1
  beginRun(t, s, task, t.steps, 1, inner)
}

const parentSeq = (t: Transition, s: Seed): number | null => (s.parent === null ? null : (t.find(s.parent)?.seq ?? null))

/**
 * Begins one run of `task` by thread `s`: a group starts its branches, a for_each its items, the
 * engine's own task types park the thread, any other type is started for the shell to run.
 */
export function beginRun(t: Transition, s: Seed, task: PlanTask, step: number, attempt: number, inner?: GroupJoin): void {
  const seq = ++t.seq
  const parent = parentSeq(t, s)
  if (task.group !== undefined && s.item === null) {
    const join: GroupJoin = inner === undefined ? { kind: 'group', queue: task.group.members.map((m) => ({ first: m, at: m })), outcomes: [] } : revived(task.group.members, inner)
    t.commands.push(startRun(seq, task, step, attempt, parent, s, null, undefined))
    const group = makeThread(s.id, s.parent, s.branch, s.item, task.name, step, attempt, seq, 'group', null, null, s.crashes, join)
    t.put(group)
    startBranches(t, group)
    return
  }
  if (task.forEach !== undefined && s.item === null) {
    const thread = makeThread(s.id, s.parent, s.branch, s.item, task.name, step, attempt, seq, 'items', null, null, s.crashes, { kind: 'items', total: 0, next: 0, done: 0 })
    beginForEach(t, thread, (input, items) => startRun(seq, task, step, attempt, parent, s, input, items), task)
    return
  }
  const input = render(t, task, s.item === null ? t.scope() : itemScope(t, s))
  if ('failure' in input) {
    t.commands.push(startRun(seq, task, step, attempt, parent, s, null, undefined))
    const run = makeThread(s.id, s.parent, s.branch, s.item, task.name, step, attempt, seq, 'run', null, null, s.crashes, null)
    t.put(run)
    t.settleFailure(run, input.failure)
    return
  }
  t.commands.push(startRun(seq, task, step, attempt, parent, s, input.value, undefined))
  const wakeAt = task.system === undefined && task.timeoutMs !== undefined ? t.at + task.timeoutMs : null
  const run = makeThread(s.id, s.parent, s.branch, s.item, task.name, step, attempt, seq, 'run', wakeAt, null, s.crashes, null)
  if (task.system === undefined) t.put(run)
  else parkSystem(t, run, task, input.value)
}

function startRun(seq: number, task: PlanTask, step: number, attempt: number, parentSeq: number | null, s: Seed, input: unknown, items: readonly unknown[] | undefined): StartRun {
  return { type: 'start_run', seq, task, step, attempt, parentSeq, branch: s.branch, item: s.item, input, items }
}

/** The engine's own task types: wait (a timer), wait_for_signal, subflow (a child execution). */
function parkSystem(t: Transition, run: Thread, task: PlanTask, input: unknown): void {
  const invalid = (message: string): void => {
    t.put(run)
    t.settleFailure(run, { message: `input of task "${task.name}" (type "${task.system ?? ''}") is invalid: ${message}`, code: 'INPUT_INVALID', retryable: false })
  }
  switch (task.system) {
    case 'wait': {
      const parsed = WaitInput.safeParse(input)
      if (!parsed.success) return invalid(firstIssue(parsed.error))
      const until = 'ms' in parsed.data ? t.at + parsed.data.ms : Date.parse(parsed.data.until)
      if (until <= t.at) {
        t.put(run)
        t.settleSuccess(run)
        return
      }
      const waiting = { kind: 'timer' as const, until }
      t.commands.push({ type: 'park_run', seq: run.seq, task: task.name, waiting })
      t.put(withPhase(run, 'parked', until, waiting))
      return
    }
    case 'wait_for_signal': {
      const parsed = WaitForSignalInput.safeParse(input)
      if (!parsed.success) return invalid(firstIssue(parsed.error))
      const timeoutAt = parsed.data.timeout_ms === undefined ? null : t.at + parsed.data.timeout_ms
      const waiting = { kind: 'signal' as const, signal: parsed.data.signal, timeoutAt }
      t.commands.push({ type: 'park_run', seq: run.seq, task: task.name, waiting })
      t.put(withPhase(run, 'parked', timeoutAt, waiting))
      return
    }
    case 'subflow': {
      const parsed = SubflowInput.safeParse(input)
      if (!parsed.success) return invalid(firstIssue(parsed.error))
      t.commands.push({ type: 'park_run', seq: run.seq, task: task.name, waiting: { kind: 'child' } })
      t.commands.push({ type: 'start_child', seq: run.seq, task: task.name, flowId: parsed.data.flow_id, version: parsed.data.version ?? null, input: parsed.data.input ?? {} })
      t.put(withPhase(run, 'parked', null, { kind: 'child' }))
      return
    }
    case undefined:
      return
  }
}

function beginForEach(t: Transition, thread: Thread, start: (input: unknown, items?: readonly unknown[]) => StartRun, task: PlanTask): void {
  const forEach = task.forEach as NonNullable<PlanTask['forEach']>
  const fail = (message: string, code: string): void => {
    t.commands.push(start(null))
    t.put(thread)
    t.settleFailure(thread, { message: `for_each of task "${task.name}": ${message}`, code, retryable: false })
  }
  const evaluated = forEach.expression.evaluate(t.scope())
  if (!evaluated.ok) return fail(evaluated.message, 'FOR_EACH_INVALID')
  const list = toJsonValue(evaluated.value)
  if (!list.ok) return fail(list.message, 'FOR_EACH_INVALID')
  if (!Array.isArray(list.value)) return fail(`${forEach.expression.source} gave ${describe(list.value)}, not a list`, 'FOR_EACH_INVALID')
  const items = list.value as unknown[]
  if (items.length > MAX_FOR_EACH_ITEMS) return fail(`the list has ${items.length} items; at most ${MAX_FOR_EACH_ITEMS} are allowed`, 'FOR_EACH_TOO_LARGE')
  t.commands.push(start(null, items))
  const started = withJoin(thread, { kind: 'items', total: items.length, next: 0, done: 0 })
  t.put(started)
  if (items.length === 0) {
    t.settleSuccess(started, { from: 'value', value: [], view: { status: 'success', data: [], error: null }, bytes: 2 })
    return
  }
  t.rememberItems(started.seq, items)
  startItems(t, started)
}

/** Starts item runs of a for_each thread while fewer than its max_concurrency run. */
export function startItems(t: Transition, thread: Thread): void {
  const task = t.plan.tasks.get(thread.task) as PlanTask
  const max = task.forEach?.maxConcurrency ?? 1
  let join = thread.join
  if (join?.kind !== 'items') return
  let active = t.children(thread.id).length
  let current = thread
  while (active < max && join.next < join.total && t.running) {
    const index: number = join.next
    join = { kind: 'items', total: join.total, next: index + 1, done: join.done }
    current = withJoin(current, join)
    t.put(current)
    active++
    beginRun(t, seed(t, thread.id, null, index), task, thread.step, 1)
  }
}

/** Starts queued branches of a group while fewer than its max_concurrency run. */
export function startBranches(t: Transition, group: Thread): void {
  const task = t.plan.tasks.get(group.task) as PlanTask
  const max = task.group?.maxConcurrency ?? 1
  let current = group
  let active = t.children(group.id).length
  while (active < max && t.running) {
    const join = current.join as GroupJoin
    const next = join.queue[0]
    if (next === undefined) return
    current = withJoin(current, { kind: 'group', queue: join.queue.slice(1), outcomes: join.outcomes })
    t.put(current)
    active++
    enter(t, seed(t, group.id, next.first), next.at, next.inner)
  }
}

/** A group revived by a resume: branches that succeeded stay done, the others go on where they stopped. */
function revived(members: readonly string[], frozen: GroupJoin): GroupJoin {
  const kept = frozen.outcomes.filter((o) => o.status === 'success')
  const queue = members.flatMap((m) => {
    if (kept.some((o) => o.first === m)) return []
    const outcome = frozen.outcomes.find((o) => o.first === m)
    if (outcome !== undefined) return [outcome.inner === undefined ? { first: m, at: outcome.last } : { first: m, at: outcome.last, inner: outcome.inner }]
    return [frozen.queue.find((q) => q.first === m) ?? { first: m, at: m }]
  })
  return { kind: 'group', queue, outcomes: kept }
}

function itemScope(t: Transition, s: Seed): StepScope {
  const parent = s.parent === null ? undefined : t.find(s.parent)
  const items = parent === undefined ? undefined : (t.freshItems(parent.seq) ?? t.base.fanouts?.get(parent.seq)?.items)
  const index = s.item as number
  return { ...t.scope(), item: items?.[index] ?? null, index }
}

/** The task's input after mapping, or the failure that ends its run before it starts. */
function render(t: Transition, task: PlanTask, scope: StepScope): { readonly value: unknown } | { readonly failure: TaskFailure } {
  if (task.inputMapping === undefined) return { value: task.input ?? scope.input }
  const rendered = renderInput(task.inputMapping, scope)
  if (!rendered.ok) {
    return { failure: { message: `the input of task "${task.name}" could not be mapped: ${rendered.message}`, code: 'INPUT_MAPPING_ERROR', retryable: false } }
  }
  const json = JSON.stringify(rendered.value)
  if (json !== undefined && json.length > t.plan.dataLimit) {
    return { failure: { message: `the input of task "${task.name}" is ${json.length} bytes after mapping, over the data limit of ${t.plan.dataLimit}`, code: 'DATA_TOO_LARGE', retryable: false } }
  }
  return { value: rendered.value }
}
