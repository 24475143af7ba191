import { pino } from 'pino'
import { createEngine } from '../../engine/engine.js'
import { openStore } from '../../store/open-store.js'
import type { CliIo } from '../cli-io.js'
import { engineSettings } from '../engine-settings.js'
import { EXIT } from '../exit-codes.js'
import { loadTaskRegistry } from '../load-task-modules.js'
import { builtinTasksFromEnv, databaseUrl, httpAllowList, logLevel } from '../settings.js'

export interface WorkerOptions {
  readonly db?: string
  readonly tasks: readonly string[]
}

/**
 * Executes work from the store without serving HTTP: queued executions, those whose lease
 * expired and those a dead process left, until `io.signal` aborts; then it lets running task runs
 * finish within the grace period and hands back the rest.
 */
export async function workerCommand(options: WorkerOptions, io: CliIo): Promise<number> {
  const settings = engineSettings(io.env)
  const tasks = await loadTaskRegistry(options.tasks, io.cwd, builtinTasksFromEnv(io.env))
  const logger = pino({ level: logLevel(io.env, 'info') }, { write: (text: string) => io.stdout.write(text) })
  const store = await openStore(databaseUrl(options.db, io), settings.store)
  const engine = createEngine({ store, tasks, logger, ...settings.engine })
  try {
    engine.startWorker()
    logger.info({ node: engine.nodeId, tasks: tasks.names(), store: store.kind, http_allow: httpAllowList(io.env) }, 'Flow Manager worker started')
    await new Promise<void>((resolve) => {
      if (io.signal === undefined) return
      if (io.signal.aborted) resolve()
      else io.signal.addEventListener('abort', () => resolve(), { once: true })
    })
    logger.info('shutting down: finishing running task runs')
    await engine.close({ graceMs: settings.graceMs })
    return EXIT.ok
  } finally {
    await store.close()
  }
}
