import { parseFlow } from '../../core/parse-flow.js'
import { compileFlow } from '../../core/plan.js'
import { simulate } from '../../core/simulate.js'
import type { Outcome } from '../../core/flow-schema.js'
import { colorsFor, line, type CliIo } from '../cli-io.js'
import { EXIT, UsageError } from '../exit-codes.js'
import { parseJson, readJsonFile } from '../read-json.js'
import { writeInvalidFlow } from './flow-file.js'

export interface SimulateOptions {
  readonly input?: string
  readonly outcome: readonly string[]
  readonly data: readonly string[]
  readonly json?: boolean
}

/** `task=value` pairs; the task must be one of the flow's. */
function pairs(values: readonly string[], option: string, tasks: ReadonlySet<string>): [string, string][] {
  return values.map((value) => {
    const at = value.indexOf('=')
    const task = at < 0 ? value : value.slice(0, at)
    if (at <= 0) throw new UsageError(`${option} takes TASK=VALUE, got "${value}"`)
    if (!tasks.has(task)) throw new UsageError(`${option} names "${task}", which is not a task of the flow (tasks: ${[...tasks].join(', ')})`)
    return [task, value.slice(at + 1)]
  })
}

/**
 * Walks a flow with the given outcomes and data without running any task, and prints the path.
 * Exit 0 when the simulated execution completes, 1 when it fails, 2 for an invalid flow.
 */
export async function simulateCommand(path: string, options: SimulateOptions, io: CliIo): Promise<number> {
  const parsed = parseFlow(await readJsonFile(path, io.cwd))
  if (!parsed.ok) {
    writeInvalidFlow(io.stderr, colorsFor(io.stderr, io.env), path, parsed)
    return EXIT.usage
  }
  const tasks = new Set(parsed.flow.tasks.map((t) => t.name))
  const outcomes: Record<string, Outcome> = {}
  for (const [task, value] of pairs(options.outcome, '--outcome', tasks)) {
    if (value !== 'success' && value !== 'failure') throw new UsageError(`--outcome ${task}= takes success or failure, got "${value}"`)
    outcomes[task] = value
  }
  const data: Record<string, unknown> = {}
  for (const [task, value] of pairs(options.data, '--data', tasks)) data[task] = parseJson(value, `--data ${task}`)
  const input = options.input === undefined ? {} : parseJson(options.input, '--input')
  const result = simulate(compileFlow(parsed.flow), { input, outcomes, data })
  const code = result.status === 'completed' ? EXIT.ok : EXIT.failed
  if (options.json === true) {
    line(io.stdout, JSON.stringify({ path: result.path, status: result.status, steps: result.steps, failed_task: result.failedTask, error: result.error }, null, 2))
    return code
  }
  const c = colorsFor(io.stdout, io.env)
  line(io.stdout, `${result.path.join(' → ')}${result.path.length > 0 ? ' → ' : ''}${result.status === 'completed' ? c.green('completed') : c.red(result.status)}`)
  if (result.error !== null) line(io.stdout, c.dim(`${result.error.code}: ${result.error.message}`))
  return code
}
