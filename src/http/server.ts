import type { Engine } from '../engine/engine.js'
import type { Logger } from '../tasks/define-task.js'

export interface ServerOptions {
  readonly engine: Engine
  readonly host: string
  readonly port: number
  readonly logger?: Logger
}

export interface RunningServer {
  /** The address it listens on, e.g. http://127.0.0.1:8000. */
  readonly url: string
  /** Stops accepting requests, drains those in flight, then closes the engine gracefully. */
  close(): Promise<void>
}

/** Placeholder until the HTTP service lands: the CLI's `serve` command calls this. */
export function startServer(_options: ServerOptions): Promise<RunningServer> {
  return Promise.reject(new Error('the HTTP service is not built yet'))
}
