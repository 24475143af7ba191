import { readFile } from 'node:fs/promises'
import { extname, isAbsolute, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where a module failed to parse, and the lines around it. */
export interface SourceLocation {
  /** The file, relative to the working directory when inside it. */
  readonly file: string
  /** 1-based. */
  readonly line: number
  /** 1-based. */
  readonly column: number
  readonly message: string
  /** A few numbered lines of the file with a caret under the column. */
  readonly frame: string
}

/** esbuild's (and so tsx's) report: "Transform failed with 1 error:\n/path/file.ts:3:58: ERROR: Unexpected "}"". */
const ESBUILD_ERROR = /^(.+?):(\d+):(\d+): ERROR: (.+)$/m
const LOADERS: Readonly<Record<string, 'ts' | 'tsx' | 'js' | 'jsx'>> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx' }
const WIDTH = 160

/**
 * The syntax error of a module that failed to load, located in its file. TypeScript is compiled by
 * esbuild, whose message names file, line and column (of the module or of a file it imports);
 * Node's own SyntaxError for JavaScript names neither, so the module is parsed again with esbuild
 * to find it. Undefined when the module parses (it failed for another reason).
 */
export async function locateSyntaxError(error: unknown, modulePath: string, cwd: string): Promise<SourceLocation | undefined> {
  const text = error instanceof Error ? error.message : String(error)
  const reported = ESBUILD_ERROR.exec(text)
  if (reported !== null) {
    const [, file = '', line = '1', column = '1', message = ''] = reported
    return located(file.startsWith('file:') ? fileURLToPath(file) : file, Number(line), Number(column), message, cwd)
  }
  // Node's SyntaxError names no place (and a test runner's loader words it differently): parse
  // the module itself. A module that parses failed for another reason, and is not located.
  const loader = LOADERS[extname(modulePath)]
  if (loader === undefined) return undefined
  try {
    const source = await readFile(modulePath, 'utf8')
    // Loaded only on this path: a module that loads never needs it.
    const { transform } = await import('esbuild')
    await transform(source, { loader, format: 'esm', sourcefile: modulePath, logLevel: 'silent' })
    return undefined
  } catch (parseError) {
    const first = (parseError as { errors?: { text: string; location: { file: string; line: number; column: number } | null }[] }).errors?.[0]
    if (first?.location == null) return undefined
    return located(modulePath, first.location.line, first.location.column + 1, first.text, cwd)
  }
}

async function located(file: string, line: number, column: number, message: string, cwd: string): Promise<SourceLocation> {
  const shown = isAbsolute(file) && !relative(cwd, file).startsWith('..') ? relative(cwd, file) : file
  let frame = ''
  try {
    frame = codeFrame((await readFile(file, 'utf8')).split(/\r?\n/), line, column)
  } catch {
    // The location alone still says where to look.
  }
  return { file: shown, line, column, message, frame }
}

/** Two lines before, the line, one after; long lines are cut around the column. */
export function codeFrame(lines: readonly string[], line: number, column: number): string {
  const first = Math.max(1, line - 2)
  const last = Math.min(lines.length, line + 1)
  const gutter = String(last).length
  const start = Math.max(0, column - 1 - (WIDTH - 20))
  const cut = (text: string): string => (start > 0 ? '…' : '') + text.slice(start, start + WIDTH) + (text.length > start + WIDTH ? '…' : '')
  const out: string[] = []
  for (let n = first; n <= last; n++) {
    out.push(`${n === line ? '>' : ' '} ${String(n).padStart(gutter)} | ${cut(lines[n - 1] ?? '')}`)
    // Tabs stay tabs under the code, so that the caret lines up however a terminal shows them.
    if (n === line) out.push(`  ${' '.repeat(gutter)} | ${start > 0 ? ' ' : ''}${(lines[n - 1] ?? '').slice(start, column - 1).replace(/[^\t]/g, ' ')}^`)
  }
  return out.join('\n')
}
