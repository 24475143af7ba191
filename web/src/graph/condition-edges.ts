import type { FlowCondition } from '../api.js'
import { END } from './read-flow.js'

export interface Branch {
  readonly id: string
  readonly target: string
  readonly label: string
  /** For status conditions: the source status that takes this branch. */
  readonly status?: 'success' | 'failure'
}

/** Longest expression shown on an edge. */
const MAX_LABEL = 40
const clip = (text: string): string => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text)

/** The edges a condition adds (the README's flow reference and data conditions); a missing target is `end`. */
export function branchesOf(c: FlowCondition, index: number): Branch[] {
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
