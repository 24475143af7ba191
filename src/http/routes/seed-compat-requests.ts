import type { Issue } from '../../core/errors.js'
import { conditionTargets } from '../../core/flow-graph-checks.js'
import { END, type Flow } from '../../core/flow-schema.js'
import { pointer } from '../../core/json-pointer.js'

/**
 * Reading the requests of the original services (the README's "Clients of the original services"):
 * where their flow and input are, the defaults some of them filled in, and the one rule one of
 * them added (no cycles).
 */

type Raw = Record<string, unknown>

export const isObject = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The flow document in any of the accepted shapes: bare, `{flow}`, or `{flow_data: {flow}}`, with
 * the JSON pointer of where it sits in the body, so that issue paths point into what was sent.
 */
export function flowDocumentOf(body: unknown): { readonly doc: unknown; readonly base: string } {
  if (!isObject(body)) return { doc: body, base: '' }
  if (Object.hasOwn(body, 'flow_data')) return { doc: body.flow_data, base: '/flow_data' }
  if (Object.hasOwn(body, 'flow')) return { doc: body.flow, base: '/flow' }
  // A bare flow may come with the input beside it; those keys are not part of the flow.
  const rest: Raw = {}
  for (const [key, value] of Object.entries(body)) {
    if (key !== 'input' && key !== 'context') Object.defineProperty(rest, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return { doc: rest, base: '' }
}

/** Issues found in a part of the body, with their paths rooted at the body. */
export const rooted = (base: string, issues: readonly Issue[]): Issue[] => issues.map((i) => ({ ...i, path: `${base}${i.path}` }))

/** The execution input: `input`, or `context` as one of the services called it. */
export function inputOf(body: unknown): unknown {
  if (!isObject(body)) return undefined
  if (Object.hasOwn(body, 'input')) return body.input
  if (Object.hasOwn(body, 'context')) return body.context
  return undefined
}

/** Condition fields some services filled in when a client left them out. */
export interface ConditionDefaults {
  readonly outcome?: 'success'
  readonly target_task_failure?: typeof END
}

/**
 * The flow document with the services' defaults filled into conditions that left those fields
 * out. Only absent fields are added, so every issue path still points into what the client sent;
 * a condition using `when` or `cases` is left alone.
 */
export function withConditionDefaults(doc: unknown, defaults: ConditionDefaults): unknown {
  if (!isObject(doc)) return doc
  if (Object.hasOwn(doc, 'flow') && isObject(doc.flow)) return { ...doc, flow: withConditionDefaults(doc.flow, defaults) }
  if (!Array.isArray(doc.conditions)) return doc
  const conditions = (doc.conditions as unknown[]).map((condition) => {
    if (!isObject(condition) || Object.hasOwn(condition, 'when') || Object.hasOwn(condition, 'cases')) return condition
    const filled: Raw = { ...condition }
    if (defaults.outcome !== undefined && !Object.hasOwn(condition, 'outcome')) filled.outcome = defaults.outcome
    if (defaults.target_task_failure !== undefined && !Object.hasOwn(condition, 'target_task_failure')) filled.target_task_failure = defaults.target_task_failure
    return filled
  })
  return { ...doc, conditions }
}

/**
 * A cycle among the tasks reachable from start_task, following every target of every condition,
 * or undefined. Iterative depth-first search: linear in the flow's size, and no recursion that a
 * long chain could overflow. The issue points at the condition that closes the cycle.
 */
export function findCycle(flow: Flow): Issue | undefined {
  const conditionOf = new Map<string, number>()
  flow.conditions.forEach((condition, i) => conditionOf.set(condition.source_task, i))
  const nextOf = (task: string): string[] => {
    const i = conditionOf.get(task)
    const condition = i === undefined ? undefined : flow.conditions[i]
    return condition === undefined ? [] : conditionTargets(condition).filter((t) => t !== END)
  }
  const state = new Map<string, 'open' | 'done'>()
  const path: { task: string; next: string[] }[] = [{ task: flow.start_task, next: nextOf(flow.start_task) }]
  state.set(flow.start_task, 'open')
  while (path.length > 0) {
    const top = path[path.length - 1]
    if (top === undefined) break
    const target = top.next.pop()
    if (target === undefined) {
      state.set(top.task, 'done')
      path.pop()
      continue
    }
    const seen = state.get(target)
    if (seen === 'open') {
      const loop = [...path.slice(path.findIndex((p) => p.task === target)).map((p) => p.task), target]
      return {
        code: 'FLOW_CYCLE',
        path: pointer(['conditions', conditionOf.get(top.task) ?? 0]),
        message: `Flow contains a cycle in task transitions: ${loop.join(' → ')}. This route refuses loops, as the service it stands in for did; POST /api/v1/flows accepts them, bounded by max_steps`,
      }
    }
    if (seen === undefined) {
      state.set(target, 'open')
      path.push({ task: target, next: nextOf(target) })
    }
  }
  return undefined
}
