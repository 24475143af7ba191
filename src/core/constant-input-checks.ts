import type { Issue } from './errors.js'

/** A problem a task type finds in an input, at a path below the input. */
export interface InputIssue {
  readonly path: readonly (string | number)[]
  readonly message: string
  /** `key`: the last path segment is a key that should not be there, whatever its value. */
  readonly about: 'value' | 'key'
}

const MAX_ISSUES_PER_TASK = 10

/**
 * Keeps the problems a task type finds in an input as written that no input mapping can change:
 * an issue is dropped when its path crosses a `${…}` string or its value holds one, since the
 * rendered input is checked again before each run. So `"url": "ftp://x"` is refused at
 * validation and `"url": "${input.url}"` when the task runs.
 */
export function constantInputIssues(input: unknown, issues: readonly InputIssue[], label: string, at: (...rel: (string | number)[]) => string): Issue[] {
  return issues
    .filter((issue) => !dependsOnMapping(input, issue))
    .slice(0, MAX_ISSUES_PER_TASK)
    .map((issue) => ({ code: 'TASK_INPUT_INVALID', path: at(...issue.path), message: `input of ${label} is refused by its type: ${issue.message}` }))
}

function dependsOnMapping(input: unknown, issue: InputIssue): boolean {
  const walk = issue.about === 'key' ? issue.path.slice(0, -1) : issue.path
  let current = input
  for (const segment of walk) {
    if (typeof current === 'string') return current.includes('${')
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, segment)) return false
    current = (current as Record<string | number, unknown>)[segment]
  }
  return issue.about === 'value' && mayBeMapped(current, 0)
}

function mayBeMapped(value: unknown, depth: number): boolean {
  // Past this depth, assume a mapping rather than walk on: a false "valid" only defers the check to run time.
  if (depth > 64) return true
  if (typeof value === 'string') return value.includes('${')
  if (typeof value !== 'object' || value === null) return false
  return Object.values(value).some((v) => mayBeMapped(v, depth + 1))
}
