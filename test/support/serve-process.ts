import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** A port the kernel says is free now (the server binds it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

export interface ServeProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Everything the process wrote, for failure messages. */
  output(): string
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<number | NodeJS.Signals | null>
}

/** Starts `flow-manager <command>` from the sources as a real process and waits until it answers /health. */
export async function startFlowManager(args: readonly string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const started = await launchFlowManager(args, env)
  const { child, url } = started
  await until(async () => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`flow-manager exited early:\n${started.output()}`)
    return (await fetch(`${url}/health`).catch(() => undefined))?.ok === true
  }, 30_000, () => `flow-manager did not answer on ${url}:\n${started.output()}`)
  return started
}

/** Starts `flow-manager <command>` from the sources as a real process, without waiting for it to answer. */
export async function launchFlowManager(args: readonly string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args, '--port', String(port)], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  const url = `http://127.0.0.1:${port}`
  return { url, child, exited, output: () => output }
}

/**
 * Polls `check` until it holds. For waiting on another process, where there is no event to
 * await; the deadline only bounds a failure, it asserts nothing about speed.
 */
export async function until(check: () => Promise<boolean> | boolean, deadlineMs: number, explain: () => string): Promise<void> {
  const end = Date.now() + deadlineMs
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    if (await check()) return
    if (Date.now() > end) throw new Error(explain())
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}

export async function api<T>(url: string, path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method: init?.method ?? (init?.body === undefined ? 'GET' : 'POST'),
    headers: init?.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init?.body === undefined ? null : JSON.stringify(init.body),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${path} answered ${response.status}: ${text}`)
  return JSON.parse(text) as T
}
