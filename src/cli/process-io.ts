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
  // A reader that went away (`flow-manager run … | head`) is what SIGPIPE means to other commands:
  // stop as on Ctrl-C, quietly, instead of dying on an unhandled EPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error
      if (!controller.signal.aborted) controller.abort(new Error('the output was closed'))
    })
  }
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signal: controller.signal }
}
