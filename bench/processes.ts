import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The built command line, as `npm ci` (its `prepare` script) or `npm run build` leaves it. */
export const BIN = fileURLToPath(new URL('../dist/cli/bin.js', import.meta.url))
const SRC = fileURLToPath(new URL('../src', import.meta.url))
const BARE = fileURLToPath(new URL('./bare-server.ts', import.meta.url))

/** Why the benchmarks of the built `flow-manager` cannot run, or undefined when they can. */
export function distMissing(): string | undefined {
  return existsSync(BIN) ? undefined : 'dist/ is not built (npm run build)'
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

let warned = false
/** Says once, on stderr, when src/ changed after dist/ was built: the figures would be of older code. */
export function warnIfDistStale(): void {
  if (warned || !existsSync(BIN)) return
  warned = true
  if (newestMtime(SRC) > statSync(BIN).mtimeMs) {
    console.error('bench: src/ is newer than dist/; the `serve` figures measure the last build (npm run build to refresh it)')
  }
}

/** A server in a child process of ours, and what it logged at error level or above. */
export interface ServerProcess {
  readonly url: string
  readonly pid: number
  /** Log lines at error level or above (pino levels ≥ 50), for a benchmark to refuse figures of a failing server. */
  readonly errors: readonly string[]
  stop(): Promise<void>
}

/**
 * Starts a child and waits for the first stdout line that `urlOf` finds an address in. Stdout stays
 * drained for the child's whole life, as a log collector would drain it.
 */
async function startServer(command: string, args: readonly string[], env: NodeJS.ProcessEnv, urlOf: (line: string) => string | undefined): Promise<ServerProcess> {
  const child: ChildProcess = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const errors: string[] = []
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const lines = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((resolve, reject) => {
    const exited = (code: number | null): void => reject(new Error(`${args.join(' ')} exited (${code}) before listening: ${stderr.trim()}`))
    child.once('exit', exited)
    lines.on('line', (line) => {
      if (/"level":(5|6)\d/.test(line)) errors.push(line)
      const found = urlOf(line)
      if (found === undefined) return
      child.off('exit', exited)
      resolve(found)
    })
  })
  return {
    url,
    pid: child.pid!,
    errors,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
}

/**
 * `flow-manager serve` from dist/, as a user runs it: default settings (logs at `info` to a pipe,
 * synchronous=FULL) on a SQLite file, on a free loopback port, plus the settings in `env`.
 * With FM_BENCH_CPU_PROF=DIR in our environment, each one writes a CPU profile there when it
 * stops (read it with bench/profile-summary.ts).
 */
export function startServe(dbPath: string, env: Readonly<Record<string, string>> = {}): Promise<ServerProcess> {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', FLOW_MANAGER_SHUTDOWN_GRACE_MS: '0', ...env }
  const profile = process.env.FM_BENCH_CPU_PROF
  const node = profile === undefined || profile === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', profile]
  return startServer(process.execPath, [...node, BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--db', `sqlite:${dbPath}`], childEnv, (line) => {
    if (!line.includes('Flow Manager listening on')) return undefined
    return (JSON.parse(line) as { url: string }).url
  })
}

/** The bare Fastify route of bench/bare-server.ts in its own process, answering `canned` to GET and POST; `logged`: with Fastify's default request logs at info. */
export function startBare(canned: string, logged = false): Promise<ServerProcess> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_CANNED: canned, ...(logged ? { BENCH_LOG: 'info' } : {}) }
  return startServer(process.execPath, ['--import', 'tsx', BARE], env, (line) =>
    line.startsWith('http://') ? line.trim() : undefined,
  )
}
