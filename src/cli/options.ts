/**
 * Defaults and option parsing that the command line needs before it knows which command runs.
 * Nothing here loads the engine, the store or the HTTP server: `flow-manager --version` and
 * `--help` stay fast.
 */

export const DEFAULT_PORT = '8000'
export const DEFAULT_HOST = '127.0.0.1'

/** Splits FLOW_MANAGER_TASKS ("a.ts, b.js") into module names. */
export function taskModulesFromEnv(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
}
