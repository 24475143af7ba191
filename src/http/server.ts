import type { FastifyBaseLogger } from 'fastify'
import type { Engine } from '../engine/engine.js'
import type { Logger } from '../tasks/define-task.js'
import { buildApp, type BuildAppOptions } from './app.js'
import { parseApiKeys } from './auth.js'

export interface ServerOptions {
  readonly engine: Engine
  readonly host: string
  readonly port: number
  readonly logger?: Logger
  /** Further app options; API keys default to FLOW_MANAGER_API_KEYS. */
  readonly app?: Omit<BuildAppOptions, 'engine' | 'logger'>
  /** How long running task runs may finish on close before they are handed back; default 10 s. */
  readonly graceMs?: number
}

export interface RunningServer {
  /** The address it listens on, e.g. http://127.0.0.1:8000. */
  readonly url: string
  /** Stops accepting requests, drains those in flight, then closes the engine gracefully. */
  close(): Promise<void>
}

/** A pino logger has everything Fastify needs; anything smaller gets a JSON logger of its own. */
function fastifyLogger(logger: Logger | undefined): NonNullable<BuildAppOptions['logger']> {
  const candidate = logger as Partial<FastifyBaseLogger> | undefined
  if (candidate !== undefined && typeof candidate.level === 'string' && typeof candidate.fatal === 'function' && typeof candidate.trace === 'function') {
    return candidate as FastifyBaseLogger
  }
  const level = process.env.LOG_LEVEL
  return level === 'fatal' || level === 'error' || level === 'warn' || level === 'info' || level === 'debug' || level === 'trace' || level === 'silent' ? level : 'info'
}

/** How long after the grace period the last connections may still finish sending their answers. */
const STRAGGLER_MS = 1000

/** Builds the app on the engine and listens; the CLI's `serve` command calls this. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const app = await buildApp({
    apiKeys: parseApiKeys(process.env.FLOW_MANAGER_API_KEYS),
    ...options.app,
    engine: options.engine,
    logger: fastifyLogger(options.logger),
  })
  const address = await app.listen({ host: options.host, port: options.port })
  let closing: Promise<void> | undefined
  return {
    url: address,
    close() {
      closing ??= (async () => {
        // The engine closes alongside the server, not after it: a request waiting for its
        // execution is answered as soon as the execution ends, or with 202 when the grace
        // period hands it back; new executions are refused with 503 meanwhile.
        const engineClosed = options.engine.close(options.graceMs === undefined ? {} : { graceMs: options.graceMs })
        // Once the grace period is over every request that waited for an execution has its answer;
        // a connection still open then holds a request its client never finished sending (or never
        // read the answer of): shutdown ends it rather than waiting for it.
        let cutOff: NodeJS.Timeout | undefined
        void engineClosed.then(() => {
          cutOff = setTimeout(() => app.server.closeAllConnections(), STRAGGLER_MS)
          cutOff.unref()
        }, () => undefined)
        try {
          await app.close()
        } finally {
          clearTimeout(cutOff)
          await engineClosed
        }
      })()
      return closing
    },
  }
}
