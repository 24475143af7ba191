// Module loader hooks (they run on their own thread): each resolved URL is appended at once, so
// nothing is lost when the process exits.
import { appendFileSync } from 'node:fs'

/** @type {string | undefined} */
let file

/** @param {{ file?: string }} data */
export function initialize(data) {
  file = data.file
}

/**
 * @param {string} specifier
 * @param {object} context
 * @param {(specifier: string, context: object) => Promise<{ url: string }>} nextResolve
 * @returns {Promise<{ url: string }>}
 */
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context)
  if (file !== undefined) appendFileSync(file, `${result.url}\n`)
  return result
}
