import { readFileSync } from 'node:fs'

/** The name this package is published under; the command it installs is `flow-manager`. */
export const PACKAGE_NAME = 'durable-flow-manager'

let version: string | undefined

/** The package's version, read once from its package.json: one level up from src/ and from dist/ alike. */
export function packageVersion(): string {
  if (version !== undefined) return version
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name?: unknown; version?: unknown }
    version = pkg.name === PACKAGE_NAME && typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    version = '0.0.0'
  }
  return version
}
