import { defineTask, type TaskType } from '../define-task.js'
import { parseHttpAllowList } from './allow-list.js'
import { createDestinationGuard, systemResolve, type ResolveHost } from './destination-guard.js'
import { createGuardedAgent, loadUndici } from './guarded-agent.js'
import { callHttp, type HttpClient } from './http-call.js'
import { HttpInput } from './http-input.js'

export interface HttpTaskOptions {
  /**
   * Destinations the guard refuses by default that this task may reach: host names, `host:port`,
   * IP addresses or CIDRs, as in FLOW_MANAGER_HTTP_ALLOW. Default: none.
   */
  readonly allow?: readonly string[]
  /** Resolves host names to IP addresses; the operating system's resolver by default. */
  readonly resolve?: ResolveHost
}

/**
 * The `http` task type: calls a URL and yields `{status, headers, body}`. Every connection, the
 * first and each redirect's, goes through the SSRF guard configured here. A malformed `allow`
 * entry throws INPUT_INVALID.
 */
export function createHttpTask(options: HttpTaskOptions = {}): TaskType {
  const pick = createDestinationGuard(parseHttpAllowList(options.allow ?? []), options.resolve ?? systemResolve)
  // One connection pool per task type, made on the first call.
  let client: Promise<HttpClient> | undefined
  const connect = (): Promise<HttpClient> =>
    (client ??= loadUndici().then((undici) => ({ fetch: undici.fetch, dispatcher: createGuardedAgent(undici, pick) })))
  return defineTask({
    name: 'http',
    description:
      'Calls an http(s) URL; data is {status, headers, body}, the body parsed when it is JSON. A status outside expect_status fails (retryable for 5xx and 429). Loopback, private and metadata addresses are refused unless FLOW_MANAGER_HTTP_ALLOW lists them.',
    input: HttpInput,
    run: async (input, context) => callHttp(await connect(), input, context.signal),
  })
}
