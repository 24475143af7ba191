import { colorsFor, line, type CliIo } from '../cli-io.js'
import { EXIT } from '../exit-codes.js'
import { plural } from '../format.js'
import { parseFlow } from '../../core/parse-flow.js'
import { loadTaskRegistry } from '../load-task-modules.js'
import { readJsonFile } from '../read-json.js'
import { writeIssues } from './flow-file.js'

export interface ValidateOptions {
  readonly tasks: readonly string[]
  readonly json?: boolean
}

/**
 * Prints every problem of a flow, errors then warnings, one per line, on stdout: here the list
 * is the answer asked for, not a complaint. Exit 0 when the flow can run (warnings allowed).
 */
export async function validateCommand(path: string, options: ValidateOptions, io: CliIo): Promise<number> {
  const json = await readJsonFile(path, io.cwd)
  const parsed = parseFlow(json, { taskTypes: await loadTaskRegistry(options.tasks, io.cwd) })
  const errors = parsed.ok ? [] : parsed.errors
  const code = parsed.ok ? EXIT.ok : EXIT.usage
  if (options.json === true) {
    line(io.stdout, JSON.stringify({ valid: parsed.ok, errors, warnings: parsed.warnings }, null, 2))
    return code
  }
  const c = colorsFor(io.stdout, io.env)
  writeIssues(io.stdout, c, errors, parsed.warnings)
  const warnings = parsed.warnings.length === 0 ? '' : ` (${plural(parsed.warnings.length, 'warning')})`
  if (parsed.ok) {
    const { flow } = parsed
    const shape = `flow "${flow.id}": ${plural(flow.tasks.length, 'task')}, ${plural(flow.conditions.length, 'condition')}`
    line(io.stdout, `${c.green('✓')} ${path} is valid${warnings} ${c.dim(`(${shape})`)}`)
  } else {
    line(io.stdout, `${c.red('✗')} ${path} is invalid: ${plural(errors.length, 'error')}${warnings}`)
  }
  return code
}
