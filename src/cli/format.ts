import type { Issue } from '../core/errors.js'
import type { ExecutionView } from '../engine/execution-view.js'
import type { Colors } from './cli-io.js'

/** One line per problem: severity, stable code, JSON pointer, message (grep- and eye-friendly). */
export function formatIssue(severity: 'error' | 'warning', issue: Issue, c: Colors): string {
  const label = severity === 'error' ? c.red('error  ') : c.yellow('warning')
  const path = issue.path === '' ? '(root)' : issue.path
  return `${label} ${c.bold(issue.code)} ${c.cyan(path)} ${issue.message}`
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** Durations as people read them: 0.4 ms, 12 ms, 3.2 s, 4m 05s. */
export function formatDuration(ms: number): string {
  if (ms < 10) return `${(Math.round(ms * 10) / 10).toString()} ms`
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const minutes = Math.floor(ms / 60_000)
  return `${minutes}m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`
}

/** The last line of `run`: how it ended, which execution, how many steps, how long; why, when it failed. */
export function formatSummary(view: ExecutionView, c: Colors): string {
  const status =
    view.status === 'completed' ? c.green(c.bold('✓ completed')) : c.red(c.bold(view.status === 'cancelled' ? '✗ cancelled' : `✗ ${view.status}`))
  const parts = [status, plural(view.task_results.length, 'step'), view.duration_ms === null ? undefined : formatDuration(view.duration_ms), `execution ${view.execution_id}`]
  let text = parts.filter((p) => p !== undefined).join(c.dim(' · '))
  if (view.error !== null) {
    const where = view.failed_task === null ? '' : ` in task "${view.failed_task}"`
    text += `\n  ${c.red(view.error.code)}${where}: ${view.error.message}`
  }
  return text
}
