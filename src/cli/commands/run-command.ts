import { pino } from 'pino'
import { parseFlow } from '../../core/parse-flow.js'
import { createEngine } from '../../engine/engine.js'
import { definedOnly, engineSettings } from '../engine-settings.js'
import { toExecutionView } from '../../engine/execution-view.js'
import { openStore } from '../../store/open-store.js'
import { colorsFor, line, type CliIo } from '../cli-io.js'
import { EXIT, UsageError } from '../exit-codes.js'
import { formatIssue, formatSummary } from '../format.js'
import { createLiveView } from '../live-view.js'
import { loadTaskRegistry } from '../load-task-modules.js'
import { parseJson, readJsonFile } from '../read-json.js'
import { builtinTasksFromEnv, databaseUrl, logLevel } from '../settings.js'
import { writeInvalidFlow } from './flow-file.js'

export interface RunOptions {
  readonly input?: string
  readonly inputFile?: string
  readonly db?: string
  readonly tasks: readonly string[]
  readonly json?: boolean
}

/** Why an interrupted run ended, as recorded in the execution's error. */
const INTERRUPTED = 'cancelled from the command line (interrupted)'

/**
 * Runs one flow to its end in this process and reports it: live task lines and a summary, or
 * with --json only the execution (the API's representation) on stdout. Problems and task logs go to stderr, so
 * stdout stays machine-readable. Exit 0 completed, 1 failed or cancelled, 2 bad flow or usage.
 */
export async function runCommand(path: string, options: RunOptions, io: CliIo): Promise<number> {
  const json = await readJsonFile(path, io.cwd)
  const input = await readInput(options, io)
  const level = logLevel(io.env, 'warn')
  const tasks = await loadTaskRegistry(options.tasks, io.cwd, builtinTasksFromEnv(io.env))
  const err = colorsFor(io.stderr, io.env)
  const parsed = parseFlow(json, { taskTypes: tasks })
  if (!parsed.ok) {
    writeInvalidFlow(io.stderr, err, path, parsed)
    return EXIT.usage
  }
  for (const warning of parsed.warnings) line(io.stderr, formatIssue('warning', warning, err))

  const url = databaseUrl(options.db, io)
  const store = await openStore(url)
  // Task logs are the user's diagnostics: stderr, JSON, quiet unless LOG_LEVEL asks for more.
  const logger = pino({ level }, { write: (text: string) => io.stderr.write(text) })
  // The limits apply here as they do in serve (a flow tried with run behaves as it will there).
  const { maxRecoveries, dataLimit, storageLimit } = engineSettings(io.env).engine
  const engine = createEngine({ store, tasks, logger, ...definedOnly({ maxRecoveries, dataLimit, storageLimit }) })
  const out = colorsFor(io.stdout, io.env)
  const live = createLiveView(io.stdout, out, { flow: parsed.flow, signalHint: signalHint(url, options.db) })
  const unsubscribe = options.json === true ? undefined : engine.subscribe(live)
  const signal = io.signal
  try {
    if (signal?.aborted === true) {
      line(io.stderr, `${err.red('flow-manager:')} interrupted before the flow started`)
      return EXIT.failed
    }
    const started = await engine.start({ flow: json }, input === undefined ? {} : { input })
    const onAbort = (): void => {
      // Losing the race with the execution's own end is fine: there is nothing left to cancel.
      engine.cancel(started.executionId, INTERRUPTED).catch(() => undefined)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const detail = await started.done.finally(() => signal?.removeEventListener('abort', onAbort))
    const view = toExecutionView(detail)
    line(io.stdout, options.json === true ? JSON.stringify(view, null, 2) : formatSummary(view, out))
    return view.status === 'completed' ? EXIT.ok : EXIT.failed
  } finally {
    unsubscribe?.()
    await engine.close({ graceMs: 0 })
    await store.close()
  }
}

/** The execution input from --input or --input-file (one of them), or undefined for the default. */
async function readInput(options: RunOptions, io: CliIo): Promise<unknown> {
  if (options.input !== undefined && options.inputFile !== undefined) {
    throw new UsageError('give the input with --input or with --input-file, not both')
  }
  if (options.inputFile !== undefined) return readJsonFile(options.inputFile, io.cwd)
  if (options.input === undefined) return undefined
  try {
    return parseJson(options.input, '--input')
  } catch (error) {
    // The usual cause is a shell that ate the quotes: {fail:[task2]} instead of {"fail":["task2"]}.
    const hint = /^\s*[[{]/.test(options.input) && !options.input.includes('"') ? `; quote it for the shell, e.g. --input '{"fail": ["task2"]}'` : ''
    if (hint === '' || !(error instanceof Error)) throw error
    error.message += hint
    throw error
  }
}

/** The command that sends a signal to this run from another terminal (never echoing a URL that may hold a password). */
function signalHint(url: string, db: string | undefined): (executionId: string, signal: string) => string {
  if (url === 'memory:' || url === 'sqlite::memory:') return () => 'the database is in memory, so only this process could; run with --db sqlite:FILE to signal it'
  const where = db === undefined ? '' : url.startsWith('sqlite:') ? ` --db ${db}` : ' --db <the same database>'
  return (executionId, signal) => `flow-manager signal ${executionId} ${signal}${where}`
}
