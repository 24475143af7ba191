import { pino, type Logger } from 'pino'
import { batchedLines } from '../batched-lines.js'
import { FlowManagerError, isFlowManagerError } from '../../core/errors.js'
import { createEngine } from '../../engine/engine.js'
import { parseApiKeys } from '../../http/auth.js'
import { startServer, type RunningServer } from '../../http/server.js'
import { openStore } from '../../store/open-store.js'
import type { CliIo } from '../cli-io.js'
import { EXIT } from '../exit-codes.js'
import { engineSettings, limitSettings } from '../engine-settings.js'
import { loadTaskRegistry } from '../load-task-modules.js'
import { watchTaskModules, type WatchedTaskModules } from '../watch-task-modules.js'
import { DEFAULT_HOST, DEFAULT_PORT } from '../options.js'
import { builtinTasksFromEnv, databaseUrl, httpAllowList, logLevel, nonEmpty, port } from '../settings.js'

export interface ServeOptions {
  readonly port?: string
  readonly host?: string
  readonly db?: string
  readonly tasks: readonly string[]
  /** Reload the task modules when their files change. */
  readonly watch?: boolean
}

export { DEFAULT_HOST, DEFAULT_PORT }

/**
 * Serves the HTTP API and works on the store's executions (queued ones, and those a crashed node
 * left) until `io.signal` aborts (SIGTERM/SIGINT in a real process), then stops taking requests, lets running work finish within the server's grace period, and closes the
 * database. Logs are pino JSON on stdout, as log collectors expect from a service.
 */
export async function serveCommand(options: ServeOptions, io: CliIo): Promise<number> {
  const envPort = nonEmpty(io.env.PORT)
  const listenPort = options.port !== undefined ? port(options.port, '--port') : port(envPort ?? DEFAULT_PORT, 'PORT')
  const host = options.host ?? nonEmpty(io.env.HOST) ?? DEFAULT_HOST
  const level = logLevel(io.env, 'info')
  // API keys come from io.env like every other setting (startServer would read process.env).
  const app = { apiKeys: parseApiKeys(io.env.FLOW_MANAGER_API_KEYS), ...limitSettings(io.env) }
  const builtins = builtinTasksFromEnv(io.env)
  const lines = batchedLines(io.stdout)
  try {
    return await serve(options, io, { listenPort, host, app, builtins, logger: pino({ level }, lines) })
  } finally {
    lines.close()
  }
}

interface ServeSettings {
  readonly listenPort: number
  readonly host: string
  readonly app: { readonly apiKeys: readonly string[] } & ReturnType<typeof limitSettings>
  readonly builtins: ReturnType<typeof builtinTasksFromEnv>
  readonly logger: Logger
}

async function serve(options: ServeOptions, io: CliIo, { listenPort, host, app, builtins, logger }: ServeSettings): Promise<number> {
  const settings = engineSettings(io.env)
  const watched: WatchedTaskModules | undefined = options.watch === true ? await watchTaskModules({ modules: options.tasks, cwd: io.cwd, logger, builtins }) : undefined
  const tasks = watched?.registry ?? (await loadTaskRegistry(options.tasks, io.cwd, builtins))
  let store
  try {
    store = await openStore(databaseUrl(options.db, io), settings.store)
  } catch (error) {
    // The folders being watched would keep the process alive.
    watched?.close()
    throw error
  }
  let server: RunningServer | undefined
  const engine = createEngine({ store, tasks, logger, ...settings.engine })
  try {
    try {
      server = await startServer({ engine, host, port: listenPort, logger, app, graceMs: settings.graceMs })
    } catch (error) {
      if (isFlowManagerError(error)) throw error
      const why = error instanceof Error ? error.message : String(error)
      throw new FlowManagerError('INTERNAL', `cannot start the HTTP server on ${host}:${listenPort}: ${why}`, { cause: error })
    }
    // Only once the port is ours: a node that cannot serve should not take work from the others.
    engine.startWorker()
    logger.info({ url: server.url, tasks: tasks.names(), auth: app.apiKeys.length > 0, http_allow: httpAllowList(io.env) }, `Flow Manager listening on ${server.url}`)
    await aborted(io.signal)
    logger.info('shutting down: finishing requests and running task runs')
    await server.close()
    return EXIT.ok
  } finally {
    watched?.close()
    // server.close() closes the engine; without a server nothing else will.
    if (server === undefined) await engine.close({ graceMs: 0 })
    await store.close()
  }
}

/** Settles when the signal aborts; never without one (the open server keeps the process alive). */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined) return
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
}
