import type { CliIo } from './cli-io.js'

/**
 * The real process as a CliIo. The first SIGINT or SIGTERM aborts `signal`, which lets `run`
 * cancel its execution and `serve` shut down gracefully; a second one means "stop now".
 */
export function processIo(): CliIo {
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130)
    controller.abort(new Error(`received ${signal}`))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal: controller.signal }
}
