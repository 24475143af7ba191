import type { OutputStream } from './cli-io.js'

/** Past this many characters waiting, lines are written at once rather than at the end of the turn. */
const MAX_PENDING = 64 * 1024

/**
 * A log destination that writes the lines logged during one turn of the event loop in one write.
 * Under load a service logs a line per request; written one by one to a pipe, each is a system
 * call, and they cost more than answering the requests. Lines wait at most until the event loop
 * turns (or the process exits), so the log still reads in real time.
 */
export function batchedLines(out: OutputStream): { write(line: string): void; close(): void } {
  let pending: string[] = []
  let size = 0
  let scheduled = false
  const flush = (): void => {
    scheduled = false
    if (pending.length === 0) return
    const text = pending.length === 1 ? pending[0]! : pending.join('')
    pending = []
    size = 0
    out.write(text)
  }
  process.once('exit', flush)
  return {
    write(line) {
      pending.push(line)
      size += line.length
      if (size >= MAX_PENDING) flush()
      else if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    },
    /** Writes what waits, and stops watching for the process's exit. */
    close() {
      process.off('exit', flush)
      flush()
    },
  }
}
