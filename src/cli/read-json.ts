import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { FlowManagerError } from '../core/errors.js'
import { pointer } from '../core/json-pointer.js'
import { findInvalidText } from '../core/text-check.js'

/** Why a file could not be read, in the words a user expects rather than an errno. */
const FS_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a parent of it is not a directory',
}

export function fsReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && FS_REASONS[code] !== undefined) return FS_REASONS[code]
  return error instanceof Error ? error.message : String(error)
}

/** Reads a JSON file named on the command line; `path` is shown as the user typed it. */
export async function readJsonFile(path: string, cwd: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(resolve(cwd, path), 'utf8')
  } catch (error) {
    throw new FlowManagerError('FILE_NOT_FOUND', `cannot read ${path}: ${fsReason(error)}`, { cause: error })
  }
  return parseJson(text, path)
}

/**
 * JSON.parse with a message that says where: V8 reports a character offset (when it reports
 * anything), which people cannot find in a file, so it becomes a line and column.
 */
export function parseJson(text: string, label: string): unknown {
  const body = text.replace(/^\uFEFF/, '')
  if (body.trim() === '') throw new FlowManagerError('JSON_INVALID', `${label} is empty; expected JSON`)
  let value: unknown
  try {
    value = JSON.parse(body) as unknown
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const position = /at position (\d+)/.exec(message)
    const detail = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/\s*(?:in JSON )?at position \d+/, '')
    const where = position === null ? '' : ` (${lineAndColumn(body, Number(position[1]))})`
    throw new FlowManagerError('JSON_INVALID', `${label} is not valid JSON: ${detail}${where}`, { cause: error })
  }
  // The same text rule as the HTTP API: what one store would refuse, no store gets.
  const bad = findInvalidText(value)
  if (bad !== undefined) {
    throw new FlowManagerError('TEXT_INVALID', `${label}: the ${bad.in === 'key' ? 'key' : 'text'} at ${JSON.stringify(pointer(bad.path))} ${bad.why}; text must be valid Unicode without NUL`)
  }
  return value
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - before.lastIndexOf('\n')
  return `line ${line}, column ${column}`
}
