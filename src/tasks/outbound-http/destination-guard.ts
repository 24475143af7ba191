import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { classifyAddress } from './address-policy.js'
import type { HttpAllowList } from './allow-list.js'
import { HttpTaskError } from './http-task-error.js'

/** Resolves a host name to its IP addresses; the seam tests use instead of DNS. */
export type ResolveHost = (hostname: string) => Promise<readonly string[]>

/** The operating system's resolver (hosts file, then DNS), as Node's own connections use it. */
export const systemResolve: ResolveHost = async (hostname) => (await lookup(hostname, { all: true })).map((a) => a.address)

/** Picks the address to connect to for a host and port, or throws HTTP_DESTINATION_REFUSED. */
export type PickAddress = (hostname: string, port: number) => Promise<string>

const SHOWN_ADDRESSES = 5

/**
 * The SSRF guard. A host name is resolved once, here, and the caller connects to the address this
 * returns, so a second DNS answer (rebinding) never reaches the socket. A name is allowed when any
 * of its addresses is public or listed; the first such address is the one connected to.
 */
export function createDestinationGuard(allow: HttpAllowList, resolve: ResolveHost): PickAddress {
  return async (rawHostname, port) => {
    const hostname = rawHostname.startsWith('[') ? rawHostname.slice(1, -1) : rawHostname
    const literal = isIP(hostname) !== 0
    const addresses = literal ? [hostname] : await resolveName(resolve, hostname)
    const first = addresses[0]
    if (first === undefined) throw new HttpTaskError('HTTP_REQUEST_FAILED', `"${hostname}" resolves to no IP address`, true)
    if (!literal && allow.allowsName(hostname, port)) return first
    const verdicts = addresses.map((address) => ({ address, ...classifyAddress(address) }))
    const permitted = verdicts.find((v) => v.refusedAs === undefined || allow.allowsAddress(v.address, port, v.metadata))
    if (permitted !== undefined) return permitted.address
    const found = verdicts.slice(0, SHOWN_ADDRESSES).map((v) => `${v.address} (${v.refusedAs ?? 'public'})`)
    const more = verdicts.length > SHOWN_ADDRESSES ? ` and ${verdicts.length - SHOWN_ADDRESSES} more` : ''
    const where = literal
      ? `${hostname} port ${port}, ${verdicts[0]?.refusedAs ?? ''}`
      : `"${hostname}" port ${port}, which resolves to ${found.join(', ')}${more}`
    const example = literal && hostname.includes(':') ? `[${hostname}]:${port}` : `${hostname}:${port}`
    const metadata = verdicts.some((v) => v.metadata) ? ' (a cloud metadata address only by an entry naming that address, not by a CIDR)' : ''
    throw new HttpTaskError(
      'HTTP_DESTINATION_REFUSED',
      `refused to connect to ${where}: loopback, private, link-local, multicast, reserved and cloud metadata addresses are reached only when FLOW_MANAGER_HTTP_ALLOW lists them${metadata}, e.g. FLOW_MANAGER_HTTP_ALLOW=${example}`,
      false,
    )
  }
}

async function resolveName(resolve: ResolveHost, hostname: string): Promise<string[]> {
  let addresses: readonly string[]
  try {
    addresses = await resolve(hostname)
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    throw new HttpTaskError('HTTP_REQUEST_FAILED', `cannot resolve "${hostname}": ${why}`, true, { cause: error })
  }
  // An answer that is not an address is never connected to.
  return addresses.filter((a) => isIP(a) !== 0)
}
