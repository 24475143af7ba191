import type { CliIo } from '../../src/cli/main.js'

export interface TestIo extends CliIo {
  readonly out: () => string
  readonly err: () => string
  /** Resolves once stdout or stderr has contained `text`: a way to wait for a moment without sleeping. */
  readonly printed: (text: string) => Promise<void>
}

export interface TestIoOptions {
  readonly cwd?: string
  readonly env?: Record<string, string | undefined>
  readonly tty?: boolean
  readonly signal?: AbortSignal
}

/** The repository root: where examples/ lives. */
export const REPO = new URL('../../', import.meta.url).pathname

/**
 * Captured stdio for `main(argv, io)`. The environment is explicit (never process.env), so that
 * DATABASE_URL, NO_COLOR or LOG_LEVEL of the machine running the tests cannot change them.
 */
export function testIo(options: TestIoOptions = {}): TestIo {
  let out = ''
  let err = ''
  const waiting: { text: string; resolve: () => void }[] = []
  const check = (): void => {
    for (const w of [...waiting]) {
      if (out.includes(w.text) || err.includes(w.text)) {
        waiting.splice(waiting.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  const tty = options.tty ?? false
  return {
    stdout: { isTTY: tty, write: (s) => ((out += s), check()) },
    stderr: { isTTY: tty, write: (s) => ((err += s), check()) },
    env: options.env ?? {},
    cwd: options.cwd ?? REPO,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    out: () => out,
    err: () => err,
    printed: (text) =>
      new Promise((resolve) => {
        waiting.push({ text, resolve })
        check()
      }),
  }
}

// eslint-disable-next-line no-control-regex
export const ANSI = /\x1b\[/
