import type { OutputStream } from './cli-io.js'

/** Where the live view writes: lines that stay, and (on a terminal) a region of lines redrawn in place. */
export interface Screen {
  /** Writes `stay` above the live region and replaces the region with `region` (drawn on a terminal only). */
  update(stay: readonly string[], region: readonly string[]): void
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g

/** A line cut to the terminal's width, so that it never wraps (a wrapped line would break the redraw). */
function fit(line: string, columns: number | undefined): string {
  if (columns === undefined || columns < 10) return line
  const plain = line.replace(ANSI, '')
  if (plain.length < columns) return line
  return `${plain.slice(0, columns - 2)}…`
}

/**
 * On a terminal, the lines of runs still going are kept at the bottom and redrawn in place: the
 * cursor goes back to the region's first line (CSI n F), erases to the end of the screen (CSI J),
 * and writes what stays followed by the new region. In a pipe or a log nothing is redrawn.
 */
export function createScreen(out: OutputStream & { readonly columns?: number }, tty: boolean): Screen {
  let drawn: readonly string[] = []
  return {
    update(stay, region) {
      if (!tty) {
        if (stay.length > 0) out.write(stay.map((l) => `${l}\n`).join(''))
        return
      }
      const lines = region.map((l) => fit(l, out.columns))
      if (stay.length === 0 && lines.length === drawn.length && lines.every((l, i) => l === drawn[i])) return
      let text = drawn.length > 0 ? `\x1b[${drawn.length}F\x1b[J` : ''
      for (const line of stay) text += `${line}\n`
      for (const line of lines) text += `${line}\n`
      out.write(text)
      drawn = lines
    },
  }
}
