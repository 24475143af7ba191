import type { Issue } from '../../core/errors.js'
import type { ParseFlowResult } from '../../core/parse-flow.js'
import { line, type Colors, type OutputStream } from '../cli-io.js'
import { formatIssue, plural } from '../format.js'

export function writeIssues(out: OutputStream, c: Colors, errors: readonly Issue[], warnings: readonly Issue[]): void {
  for (const issue of errors) line(out, formatIssue('error', issue, c))
  for (const issue of warnings) line(out, formatIssue('warning', issue, c))
}

/** The report of `run` and `graph` for a flow that cannot be used: a headline, then every problem. */
export function writeInvalidFlow(out: OutputStream, c: Colors, path: string, parsed: ParseFlowResult & { ok: false }): void {
  line(out, `${c.red('flow-manager:')} ${path} is not a valid flow (${plural(parsed.errors.length, 'error')}):`)
  writeIssues(out, c, parsed.errors, parsed.warnings)
}
