import { Command, CommanderError, Option } from 'commander'
import { isFlowManagerError } from '../core/errors.js'
import { GRAPH_FORMATS, type GraphFormat } from '../core/graph-formats.js'
import { packageVersion } from '../package-info.js'
import { colorsFor, line, type CliIo } from './cli-io.js'
import { writeIssues } from './commands/flow-file.js'
import type { RunOptions } from './commands/run-command.js'
import type { ServeOptions } from './commands/serve-command.js'
import type { SignalOptions } from './commands/signal-command.js'
import type { SimulateOptions } from './commands/simulate-command.js'
import type { ValidateOptions } from './commands/validate-command.js'
import type { WorkerOptions } from './commands/worker-command.js'
import { EXIT, UsageError, exitCodeFor } from './exit-codes.js'
import { DEFAULT_HOST, DEFAULT_PORT, taskModulesFromEnv } from './options.js'

export type { CliIo } from './cli-io.js'

const collect = (value: string, previous: string[]): string[] => [...previous, value]
const TASKS_HELP = 'load task types from a module (.ts or .js; repeatable; default: $FLOW_MANAGER_TASKS)'
const DB_HELP = 'database URL: sqlite:PATH, sqlite::memory: or postgres://… (default: $DATABASE_URL or sqlite:./data/flow-manager.db)'

/**
 * The `flow-manager` command line. Returns the exit code instead of exiting, and touches the
 * process only through `io`, so tests drive it exactly as a user would.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok
  const done = (code: number): void => {
    exitCode = code
  }
  try {
    await buildProgram(io, done).parseAsync([...argv], { from: 'user' })
    return exitCode
  } catch (error) {
    // Commander has already printed its own message (or the help) through configureOutput.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    reportError(error, io)
    return exitCodeFor(error)
  }
}

/** One line on stderr, never a stack trace (unless FLOW_MANAGER_DEBUG asks for one). */
function reportError(error: unknown, io: CliIo): void {
  const c = colorsFor(io.stderr, io.env)
  const known = isFlowManagerError(error) || error instanceof UsageError
  const message = error instanceof Error ? error.message : String(error)
  line(io.stderr, `${c.red('flow-manager:')} ${known ? message : `unexpected error: ${message}`}`)
  if (isFlowManagerError(error) && error.issues.length > 0) writeIssues(io.stderr, c, error.issues, [])
  if (io.env.FLOW_MANAGER_DEBUG !== undefined && error instanceof Error && error.stack !== undefined) line(io.stderr, c.dim(error.stack))
}

function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const err = colorsFor(io.stderr, io.env)
  const tasksFrom = (option: readonly string[]): readonly string[] => (option.length > 0 ? option : taskModulesFromEnv(io.env.FLOW_MANAGER_TASKS))
  const program = new Command('flow-manager')
    .description('Flow Manager: run, check and serve JSON-defined workflows.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`${err.red('flow-manager:')} ${text.replace(/^error: /, '')}`),
      getOutHasColors: () => colorsFor(io.stdout, io.env).isColorSupported,
      getErrHasColors: () => err.isColorSupported,
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', `
Exit codes: 0 success, 1 the execution failed or was cancelled, 2 invalid flow or bad usage.

Examples:
  $ flow-manager run examples/seed-flow.json
  $ flow-manager run examples/seed-flow.json --input '{"fail": ["task2"]}' --json
  $ flow-manager validate my-flow.json --tasks ./my-tasks.ts
  $ flow-manager graph examples/seed-flow.json --format dot | dot -Tsvg > flow.svg
  $ flow-manager signal EXECUTION_ID approve --data '{"approved": true}'
  $ flow-manager serve --port 8000 --db sqlite:./data/flow-manager.db`)

  program
    .command('run')
    .description('run a flow in this process and show each task as it runs')
    .argument('<flow>', 'flow definition file (JSON)')
    .option('--input <json>', 'execution input as JSON (default {})')
    .option('--input-file <path>', 'read the execution input from a JSON file')
    .option('--db <url>', DB_HELP)
    .option('--tasks <module>', TASKS_HELP, collect, [])
    .option('--json', 'print only the finished execution as JSON on stdout (the API\'s representation; see docs/api.md)')
    .addHelpText('after', `
Exit codes: 0 completed, 1 failed or cancelled (Ctrl-C cancels), 2 invalid flow or bad usage.
Task logs go to stderr as JSON at LOG_LEVEL (default warn). The http task reaches loopback, private
and metadata addresses only when FLOW_MANAGER_HTTP_ALLOW lists them (e.g. localhost:8080,10.0.0.0/8).

Examples:
  $ flow-manager run examples/seed-flow.json --db sqlite::memory:
  $ flow-manager run examples/seed-flow.json --input '{"fail": ["task2"]}'
  $ flow-manager run examples/custom-flow.json --tasks examples/custom-tasks.ts
  $ flow-manager run flow.json --input-file input.json --json | jq .status`)
    .action(async (flow: string, options: RunOptions) => {
      // Each command loads its code when it runs: --version and --help load none of it.
      const { runCommand } = await import('./commands/run-command.js')
      done(await runCommand(flow, { ...options, tasks: tasksFrom(options.tasks) }, io))
    })

  program
    .command('validate')
    .description('check a flow and print every problem with its JSON-pointer path')
    .argument('<flow>', 'flow definition file (JSON)')
    .option('--tasks <module>', TASKS_HELP, collect, [])
    .option('--json', 'print {valid, errors, warnings} as JSON')
    .addHelpText('after', `
Exit codes: 0 valid (warnings allowed), 2 invalid.

Examples:
  $ flow-manager validate examples/seed-flow.json
  $ flow-manager validate my-flow.json --tasks ./my-tasks.ts --json`)
    .action(async (flow: string, options: ValidateOptions) => {
      const { validateCommand } = await import('./commands/validate-command.js')
      done(await validateCommand(flow, { ...options, tasks: tasksFrom(options.tasks) }, io))
    })

  program
    .command('graph')
    .description('draw a flow as a Mermaid flowchart or a Graphviz DOT graph')
    .argument('<flow>', 'flow definition file (JSON)')
    .addOption(new Option('--format <format>', 'output format').choices(GRAPH_FORMATS).default('mermaid'))
    .addHelpText('after', `
Examples:
  $ flow-manager graph examples/seed-flow.json > flow.mmd
  $ flow-manager graph examples/seed-flow.json --format dot | dot -Tpng > flow.png`)
    .action(async (flow: string, options: { format: GraphFormat }) => {
      const { graphCommand } = await import('./commands/graph-command.js')
      done(await graphCommand(flow, options.format, io))
    })

  program
    .command('simulate')
    .description('walk a flow with given task outcomes, without running any task, and print its path')
    .argument('<flow>', 'flow definition file (JSON)')
    .option('--input <json>', 'execution input as JSON (default {})')
    .option('--outcome <task=success|failure>', 'how a task ends (repeatable; tasks not named succeed)', collect, [])
    .option('--data <task=json>', 'result data of a task, for conditions that read it (repeatable)', collect, [])
    .option('--json', 'print {path, status, steps, failed_task, error} as JSON')
    .addHelpText('after', `
Exit codes: 0 the simulated execution completes, 1 it fails, 2 invalid flow or bad usage.

Examples:
  $ flow-manager simulate examples/seed-flow.json --outcome task2=failure
  $ flow-manager simulate flow.json --input '{"tier": "gold"}' --data 'fetch={"count": 3}' --json`)
    .action(async (flow: string, options: SimulateOptions) => {
      const { simulateCommand } = await import('./commands/simulate-command.js')
      done(await simulateCommand(flow, options, io))
    })

  program
    .command('signal')
    .description('send a signal to an execution: the next wait_for_signal task waiting for it takes the payload as its data')
    .argument('<execution>', 'the execution id')
    .argument('<name>', 'the signal name (letters, digits, ".", "_", "~", "-")')
    .option('--data <json>', 'the payload as JSON (default null)')
    .option('--data-file <path>', 'read the payload from a JSON file')
    .option('--db <url>', DB_HELP)
    .option('--json', 'print {execution_id, signal, accepted} as JSON')
    .addHelpText('after', `
The signal is kept in the database (use the one the execution runs on); whichever process holds the
execution takes it up, and a parked one is woken. No server needs to run. A signal sent before the
wait begins is kept, and taken in order of arrival, one per wait.
Exit codes: 0 kept, 1 the execution has finished, 2 unknown execution, bad name or bad data.

Examples:
  $ flow-manager signal 01J9Z… approve --data '{"approved": true, "by": "ana"}' --db sqlite:./data/flow-manager.db
  $ DATABASE_URL=postgres://postgres@127.0.0.1:5432/flows flow-manager signal 01J9Z… payment_received`)
    .action(async (execution: string, name: string, options: SignalOptions) => {
      const { signalCommand } = await import('./commands/signal-command.js')
      done(await signalCommand(execution, name, options, io))
    })

  program
    .command('serve')
    .description('serve the HTTP API (stops gracefully on SIGTERM or Ctrl-C)')
    .option('--port <port>', `port to listen on (default: $PORT or ${DEFAULT_PORT})`)
    .option('--host <host>', `address to listen on (default: $HOST or ${DEFAULT_HOST})`)
    .option('--db <url>', DB_HELP)
    .option('--tasks <module>', TASKS_HELP, collect, [])
    .option('--watch', 'reload the task modules when their files change; running task runs finish on the code they started with')
    .addHelpText('after', `
Environment: PORT, HOST, DATABASE_URL, LOG_LEVEL (default info), FLOW_MANAGER_TASKS (comma-separated),
FLOW_MANAGER_API_KEYS (comma-separated; when set, requests need "Authorization: Bearer KEY" or "X-API-Key: KEY"),
FLOW_MANAGER_HTTP_ALLOW (destinations the http task may reach beyond public addresses),
FLOW_MANAGER_MAX_CONCURRENT, FLOW_MANAGER_LEASE_MS, FLOW_MANAGER_SHUTDOWN_GRACE_MS, FLOW_MANAGER_MAX_RECOVERIES,
FLOW_MANAGER_BODY_LIMIT, FLOW_MANAGER_DATA_LIMIT, FLOW_MANAGER_EXECUTION_STORAGE_LIMIT,
FLOW_MANAGER_REQUEST_TIMEOUT_MS (see "Limits" in the README).

Examples:
  $ flow-manager serve
  $ PORT=9000 LOG_LEVEL=debug flow-manager serve --tasks ./my-tasks.ts
  $ flow-manager serve --tasks ./my-tasks.ts --watch`)
    .action(async (options: ServeOptions) => {
      const { serveCommand } = await import('./commands/serve-command.js')
      done(await serveCommand({ ...options, tasks: tasksFrom(options.tasks) }, io))
    })

  program
    .command('worker')
    .description('execute queued and orphaned work from the database without serving HTTP')
    .option('--db <url>', DB_HELP)
    .option('--tasks <module>', TASKS_HELP, collect, [])
    .addHelpText('after', `
Several workers and servers on one PostgreSQL database share the work; a worker on a SQLite file
resumes what a crashed process on that file left. SIGTERM or Ctrl-C stops it gracefully.

Environment: DATABASE_URL, LOG_LEVEL, FLOW_MANAGER_TASKS, FLOW_MANAGER_HTTP_ALLOW, FLOW_MANAGER_MAX_CONCURRENT,
FLOW_MANAGER_LEASE_MS, FLOW_MANAGER_POLL_MS, FLOW_MANAGER_SHUTDOWN_GRACE_MS, FLOW_MANAGER_MAX_RECOVERIES,
FLOW_MANAGER_DATA_LIMIT, FLOW_MANAGER_EXECUTION_STORAGE_LIMIT.

Examples:
  $ DATABASE_URL=postgres://postgres@127.0.0.1:5432/flows flow-manager worker --tasks ./my-tasks.ts`)
    .action(async (options: WorkerOptions) => {
      const { workerCommand } = await import('./commands/worker-command.js')
      done(await workerCommand({ ...options, tasks: tasksFrom(options.tasks) }, io))
    })

  return program
}
