import pc from 'picocolors'

/** Where a command writes; a terminal stream reports `isTTY`. */
export interface OutputStream {
  write(text: string): void
  readonly isTTY?: boolean
}

/**
 * Everything the command line touches in its process, passed in so that `main` runs in tests
 * exactly as it does for users.
 */
export interface CliIo {
  readonly stdout: OutputStream
  readonly stderr: OutputStream
  readonly env: Readonly<Record<string, string | undefined>>
  /** Relative paths (flow files, task modules, sqlite:PATH) resolve against this directory. */
  readonly cwd: string
  /**
   * Aborted when the user interrupts (Ctrl-C) or the process is asked to stop: `run` cancels its
   * execution, `serve` shuts down. Without it, `serve` runs until the process ends.
   */
  readonly signal?: AbortSignal
}

export type Colors = ReturnType<typeof pc.createColors>

/**
 * Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org).
 * FORCE_COLOR=1 turns it on for a pipe (CI logs that render ANSI), FORCE_COLOR=0 turns it off.
 */
export function colorsFor(stream: OutputStream, env: CliIo['env']): Colors {
  const force = env.FORCE_COLOR
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return pc.createColors(false)
  if (force !== undefined && force !== '') return pc.createColors(force !== '0' && force !== 'false')
  return pc.createColors(stream.isTTY === true)
}

/** Writes one line, adding the newline. */
export function line(stream: OutputStream, text = ''): void {
  stream.write(`${text}\n`)
}
