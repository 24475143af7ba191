import { launchFlowManager, type ServeProcess } from './serve-process.js'

/** A `flow-manager` process kept running the way a process manager would: started again whenever it exits. */
export interface Supervised {
  /** The process running now (it may be dying). */
  readonly current: ServeProcess | undefined
  /** How each earlier process ended (exit code or signal), oldest first. */
  readonly deaths: readonly (number | NodeJS.Signals | null)[]
  /** Everything every process wrote, for failure messages. */
  output(): string
  /** Stops restarting and kills the current process. */
  stop(): Promise<void>
}

export function supervise(args: readonly string[], env: Record<string, string> = {}): Supervised {
  let current: ServeProcess | undefined
  let stopped = false
  const deaths: (number | NodeJS.Signals | null)[] = []
  const outputs: (() => string)[] = []
  const loop = (async () => {
    while (!stopped) {
      const p = await launchFlowManager(args, env)
      current = p
      outputs.push(() => p.output())
      if (stopped) p.child.kill('SIGKILL')
      const end = await p.exited
      if (!stopped) deaths.push(end)
    }
  })()
  return {
    get current() {
      return current
    },
    deaths,
    output: () => outputs.map((o, i) => `--- process ${i + 1}\n${o()}`).join('\n'),
    async stop() {
      stopped = true
      const p = current
      if (p !== undefined && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL')
      await loop
    },
  }
}

/** GET a path from the supervised process running now; undefined while none answers. */
export async function tryGet<T>(s: Supervised, path: string): Promise<T | undefined> {
  const url = s.current?.url
  if (url === undefined) return undefined
  const response = await fetch(`${url}${path}`).catch(() => undefined)
  if (response?.ok !== true) return undefined
  return (await response.json().catch(() => undefined)) as T | undefined
}
