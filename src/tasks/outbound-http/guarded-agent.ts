import type { Agent, buildConnector, Dispatcher, fetch } from 'undici'
import type { PickAddress } from './destination-guard.js'

/** The parts of undici the http task uses: its fetch and the Agent it sends through, from one version. */
export interface Undici {
  readonly Agent: typeof Agent
  readonly buildConnector: typeof buildConnector
  readonly fetch: typeof fetch
}

let loading: Promise<Undici> | undefined

/** undici is loaded on the first request, so a process that never calls out does not pay for it. */
export function loadUndici(): Promise<Undici> {
  return (loading ??= import('undici').then((undici) => ({ Agent: undici.Agent, buildConnector: undici.buildConnector, fetch: undici.fetch })))
}

/**
 * An undici Agent whose connections go only where the guard says: the guard resolves and checks
 * the host, and the socket is opened to the address it returned. The URL's host stays the Host
 * header and the TLS server name, so certificates are checked against the name, not the address.
 */
export function createGuardedAgent(undici: Undici, pick: PickAddress): Dispatcher {
  const connectDirect = undici.buildConnector({})
  return new undici.Agent({
    connect: (options, callback) => {
      const port = Number(options.port) || (options.protocol === 'https:' ? 443 : 80)
      pick(options.hostname, port).then(
        (address) => connectDirect({ ...options, hostname: address }, callback),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
      )
    },
  })
}
