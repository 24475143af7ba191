import { BlockList, isIP } from 'node:net'
import { FlowManagerError } from '../../core/errors.js'

type Entry =
  | { readonly kind: 'name'; readonly name: string; readonly port: number | undefined }
  | { readonly kind: 'network'; readonly list: BlockList; readonly single: boolean; readonly port: number | undefined }

/** Destinations the http task may reach although the guard refuses them by default. */
export interface HttpAllowList {
  /** The entries as given, for logs and messages. */
  readonly entries: readonly string[]
  /** A host name entry (with this port or none) matches the URL's host name, whatever it resolves to. */
  allowsName(hostname: string, port: number): boolean
  /** An address or CIDR entry (with this port or none); a metadata address needs an entry naming it alone. */
  allowsAddress(address: string, port: number, metadata: boolean): boolean
}

/** An allow list that allows nothing: the default. */
export const NOTHING_ALLOWED: HttpAllowList = parseHttpAllowList([])

/**
 * Parses allow-list entries (the items of FLOW_MANAGER_HTTP_ALLOW): a host name (`localhost`,
 * `api.internal`), an address (`127.0.0.1`, `::1`), either with a port (`localhost:8080`,
 * `10.0.0.5:443`, `[::1]:8080`), or a CIDR (`10.0.0.0/8`, `fd00::/8`). Blank entries are skipped;
 * a malformed one throws INPUT_INVALID naming it.
 */
export function parseHttpAllowList(entries: readonly string[]): HttpAllowList {
  const given = entries.map((e) => e.trim()).filter((e) => e !== '')
  const parsed = given.map(parseEntry)
  const normalName = (hostname: string): string => hostname.toLowerCase().replace(/\.$/, '')
  return {
    entries: given,
    allowsName: (hostname, port) => {
      const name = normalName(hostname)
      return parsed.some((e) => e.kind === 'name' && e.name === name && (e.port === undefined || e.port === port))
    },
    allowsAddress: (address, port, metadata) => {
      const type = isIP(address) === 4 ? 'ipv4' : 'ipv6'
      return parsed.some((e) => e.kind === 'network' && (e.port === undefined || e.port === port) && (!metadata || e.single) && e.list.check(address, type))
    },
  }
}

function parseEntry(entry: string): Entry {
  const bad = (why: string): FlowManagerError =>
    new FlowManagerError('INPUT_INVALID', `allow-list entry "${entry}" ${why}; write a host name, host:port, an IP address, [IPv6]:port or a CIDR such as 10.0.0.0/8`)
  if (entry.includes('://')) throw bad('is a URL; give its host (and port) only, such as api.internal:8080')
  if (entry.includes('/')) {
    const [address = '', prefix = '', extra] = entry.replace(/^\[(.*)\](\/.*)$/, '$1$2').split('/')
    const family = isIP(address)
    const bits = family === 4 ? 32 : 128
    if (family === 0 || extra !== undefined || !/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) {
      throw bad(`is not a CIDR (an IP address, "/", and a prefix length up to ${family === 4 ? 32 : 128})`)
    }
    return network(address, Number(prefix), undefined)
  }
  if (isIP(entry) !== 0) return network(entry, undefined, undefined)
  const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(entry)
  if (match === null) throw bad('is not understood')
  const [, host = '', portText] = match
  const port = portText === undefined ? undefined : Number(portText)
  if (port !== undefined && (port < 1 || port > 65535)) throw bad('has a port outside 1-65535')
  if (isIP(host) !== 0) return network(host, undefined, port)
  if (host.includes('*')) throw bad('has a wildcard, which is not supported: list each host name, or the addresses as a CIDR')
  let name: string
  try {
    // The URL parser gives the form request URLs are compared in: lower case, punycode, IPv4 canonical.
    name = new URL(`http://${host}/`).hostname
  } catch {
    throw bad('is not a valid host name')
  }
  if (isIP(name) !== 0) return network(name, undefined, port)
  return { kind: 'name', name: name.replace(/\.$/, ''), port }
}

function network(address: string, prefix: number | undefined, port: number | undefined): Entry {
  const family = isIP(address) === 4 ? 'ipv4' : 'ipv6'
  const bits = family === 'ipv4' ? 32 : 128
  const list = new BlockList()
  list.addSubnet(address, prefix ?? bits, family)
  return { kind: 'network', list, single: (prefix ?? bits) === bits, port }
}
