import { DEFAULT_DATA_LIMIT } from '../../core/plan.js'
import { sendSignal } from '../../engine/signals.js'
import { openStore } from '../../store/open-store.js'
import { colorsFor, line, type CliIo } from '../cli-io.js'
import { EXIT, UsageError } from '../exit-codes.js'
import { parseJson, readJsonFile } from '../read-json.js'
import { databaseUrl } from '../settings.js'

export interface SignalOptions {
  readonly data?: string
  readonly dataFile?: string
  readonly db?: string
  readonly json?: boolean
}

/**
 * Sends a signal to an execution by keeping it in the database, as POST
 * /api/v1/executions/{id}/signals/{name} does: whichever process holds the execution (a server,
 * a worker, a `flow-manager run`) takes it up, and one that is parked is woken. No server needs to
 * run, and nothing of the flow runs in this process. Exit 0 kept, 1 the execution has finished,
 * 2 an unknown execution, a bad name or bad data.
 */
export async function signalCommand(executionId: string, name: string, options: SignalOptions, io: CliIo): Promise<number> {
  const payload = await readPayload(options, io)
  const store = await openStore(databaseUrl(options.db, io))
  try {
    await sendSignal(store, executionId, name, payload, { dataLimit: DEFAULT_DATA_LIMIT, at: Date.now() })
  } finally {
    await store.close()
  }
  if (options.json === true) {
    line(io.stdout, JSON.stringify({ execution_id: executionId, signal: name, accepted: true }))
  } else {
    const c = colorsFor(io.stdout, io.env)
    line(io.stdout, `${c.green('✓')} signal ${c.bold(name)} kept for execution ${executionId}; the next wait_for_signal task waiting for it takes it`)
  }
  return EXIT.ok
}

/** The payload from --data or --data-file (one of them); null when neither is given. */
async function readPayload(options: SignalOptions, io: CliIo): Promise<unknown> {
  if (options.data !== undefined && options.dataFile !== undefined) throw new UsageError('give the payload with --data or with --data-file, not both')
  if (options.dataFile !== undefined) return readJsonFile(options.dataFile, io.cwd)
  if (options.data === undefined) return null
  try {
    return parseJson(options.data, '--data')
  } catch (error) {
    // The usual cause is a shell that ate the quotes: {ok:true} instead of {"ok":true}.
    if (/^\s*[[{]/.test(options.data) && !options.data.includes('"') && error instanceof Error) error.message += `; quote it for the shell, e.g. --data '{"approved": true}'`
    throw error
  }
}
