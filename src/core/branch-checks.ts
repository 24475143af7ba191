import type { Issue } from './errors.js'
import { END } from './flow-schema.js'
import { closest } from './suggest.js'

type Raw = Record<string, unknown>
type At = (...rel: (string | number)[]) => string
const isObject = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value)
const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined)

/** Fields that have no meaning on a parallel group, which runs no code of its own. */
const NOT_ON_GROUPS = ['type', 'input', 'retry', 'timeout_ms', 'for_each'] as const

/** A region: the main line of the flow, or one branch of a group (its first task). */
interface Region {
  readonly label: string
  readonly group: string | null
}

/**
 * Checks parallel groups and `for_each` tasks on the raw document: which fields go together, that
 * members name tasks, and that branches stay apart. Every task belongs to one region: the main
 * line (reached from start_task) or one branch (reached from a group member). A condition whose
 * target lies in another region routes into a branch from outside, or out of one: it is reported
 * at that condition's target. Linear in tasks and conditions.
 */
export function checkBranches(doc: Raw, at: At, taskIndex: ReadonlyMap<string, number>, errors: Issue[]): void {
  const tasks = Array.isArray(doc.tasks) ? (doc.tasks as unknown[]) : []
  const conditions = Array.isArray(doc.conditions) ? (doc.conditions as unknown[]) : []
  const names = [...taskIndex.keys()]
  /** Member task -> the group that starts a branch with it. */
  const memberOf = new Map<string, string>()
  const groups: { readonly name: string; readonly members: string[] }[] = []

  tasks.forEach((task, i) => {
    if (!isObject(task)) return
    const name = str(task.name) ?? `task ${i}`
    const isGroup = task.parallel !== undefined
    if (isGroup) {
      for (const key of NOT_ON_GROUPS) {
        if (task[key] !== undefined) {
          errors.push({
            code: 'CONFLICTING_FIELDS',
            path: at('tasks', i, key),
            message: `task "${name}" is a parallel group, so "${key}" has no meaning: a group runs no code of its own; give it to the tasks of its branches`,
          })
        }
      }
    } else {
      if (task.join !== undefined) {
        errors.push({ code: 'CONFLICTING_FIELDS', path: at('tasks', i, 'join'), message: `"join" belongs to a parallel group, and task "${name}" has no "parallel"` })
      }
      if (task.max_concurrency !== undefined && task.for_each === undefined) {
        errors.push({
          code: 'CONFLICTING_FIELDS',
          path: at('tasks', i, 'max_concurrency'),
          message: `"max_concurrency" belongs to a parallel group or a for_each task, and task "${name}" is neither`,
        })
      }
    }
    if (!isGroup || !Array.isArray(task.parallel)) return
    const members: string[] = []
    task.parallel.forEach((value: unknown, j) => {
      const member = str(value)
      if (member === undefined) return
      const path = at('tasks', i, 'parallel', j)
      if (member === name) {
        errors.push({ code: 'INVALID_BRANCH', path, message: `parallel group "${name}" lists itself as a branch` })
      } else if (member === END || !taskIndex.has(member)) {
        const hint = closest(member, names)
        errors.push({
          code: 'UNKNOWN_BRANCH_TASK',
          path,
          message: `parallel group "${name}" starts a branch with unknown task "${member}"${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`,
        })
      } else if (memberOf.has(member)) {
        errors.push({
          code: 'TASK_IN_TWO_BRANCHES',
          path,
          message: `task "${member}" already starts a branch of group "${memberOf.get(member) ?? ''}"; a task belongs to at most one branch`,
        })
      } else {
        memberOf.set(member, name)
        members.push(member)
      }
    })
    groups.push({ name, members })
  })
  if (groups.length === 0) return

  // Routing edges by source task, with where each target stands in the document.
  const routes = new Map<string, { readonly target: string; readonly rel: (string | number)[] }[]>()
  conditions.forEach((condition, i) => {
    if (!isObject(condition)) return
    const source = str(condition.source_task)
    if (source === undefined) return
    const list = routes.get(source) ?? []
    for (const key of ['target_task_success', 'target_task_failure', 'default'] as const) {
      const target = str(condition[key])
      if (target !== undefined) list.push({ target, rel: ['conditions', i, key] })
    }
    if (Array.isArray(condition.cases)) {
      condition.cases.forEach((c: unknown, j) => {
        const target = isObject(c) ? str(c.target) : undefined
        if (target !== undefined) list.push({ target, rel: ['conditions', i, 'cases', j, 'target'] })
      })
    }
    routes.set(source, list)
  })

  const owner = new Map<string, Region>()
  const members = new Map<string, Region>()
  for (const group of groups) for (const m of group.members) members.set(m, { label: `the branch of group "${group.name}" that starts at "${m}"`, group: group.name })

  const start = str(doc.start_task)
  if (start !== undefined && members.has(start)) {
    errors.push({
      code: 'ROUTES_INTO_BRANCH',
      path: at('start_task'),
      message: `start_task "${start}" starts a branch of group "${memberOf.get(start) ?? ''}"; start the flow at the group instead`,
    })
  }
  const claim = (first: string, region: Region): void => {
    owner.set(first, region)
    const stack = [first]
    for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
      for (const route of routes.get(task) ?? []) {
        const { target } = route
        if (target === END || !taskIndex.has(target)) continue
        const held = owner.get(target) ?? members.get(target)
        if (held === undefined) {
          owner.set(target, region)
          stack.push(target)
        } else if (held !== region) {
          errors.push(crossing(at(...route.rel), task, target, region, held))
        }
      }
    }
  }
  const main: Region = { label: 'the main line of the flow', group: null }
  if (start !== undefined && taskIndex.has(start) && !members.has(start)) claim(start, main)
  for (const group of groups) for (const m of group.members) if (!owner.has(m)) claim(m, members.get(m) as Region)
}

function crossing(path: string, from: string, to: string, region: Region, held: Region): Issue {
  if (held.group !== null && region.group !== held.group) {
    return {
      code: 'ROUTES_INTO_BRANCH',
      path,
      message: `the condition after "${from}" routes to "${to}", which belongs to ${held.label}; only the group starts a branch, so no route may enter one from outside`,
    }
  }
  return {
    code: 'ROUTES_OUT_OF_BRANCH',
    path,
    message: `the condition after "${from}" (in ${region.label}) routes to "${to}", which belongs to ${held.label}; a branch ends at "end" or at a task without a condition, and the group then routes by its own condition`,
  }
}
