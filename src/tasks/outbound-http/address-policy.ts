import { BlockList, isIP } from 'node:net'

interface Rule {
  readonly label: string
  readonly list: BlockList
}

function rule(label: string, family: 'ipv4' | 'ipv6', cidrs: readonly string[]): Rule {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const [network = '', prefix = ''] = cidr.split('/')
    list.addSubnet(network, Number(prefix), family)
  }
  return { label, list }
}

/**
 * Cloud metadata endpoints hand out credentials: they are named first so the refusal says so, and
 * only an allow-list entry naming the address itself (not a wider CIDR) lets a request through.
 */
const METADATA_V4 = rule('a cloud metadata address', 'ipv4', [
  '169.254.169.254/32', // AWS, GCP, Azure, OpenStack, DigitalOcean…
  '169.254.170.2/32', // AWS ECS task metadata
  '100.100.100.200/32', // Alibaba Cloud
  '192.0.0.192/32', // Oracle Cloud
  '168.63.129.16/32', // Azure wire server, a public address
])
const METADATA_V6 = rule('a cloud metadata address', 'ipv6', ['fd00:ec2::254/128', 'fd20:ce::254/128'])

/** IPv4 ranges that are not the public internet (IANA special-purpose registry). */
const IPV4_RULES: readonly Rule[] = [
  METADATA_V4,
  rule('a loopback address', 'ipv4', ['127.0.0.0/8']),
  rule('an unspecified ("this network") address', 'ipv4', ['0.0.0.0/8']),
  rule('a private address', 'ipv4', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']),
  rule('a carrier-grade NAT address', 'ipv4', ['100.64.0.0/10']),
  rule('a link-local address', 'ipv4', ['169.254.0.0/16']),
  rule('a multicast address', 'ipv4', ['224.0.0.0/4']),
  rule('a reserved address', 'ipv4', [
    '192.0.0.0/24',
    '192.0.2.0/24',
    '192.88.99.0/24',
    '198.18.0.0/15',
    '198.51.100.0/24',
    '203.0.113.0/24',
    '240.0.0.0/4',
  ]),
]

/** IPv6: only global unicast (2000::/3) outside its special blocks is public. */
const IPV6_RULES: readonly Rule[] = [
  METADATA_V6,
  rule('a loopback address', 'ipv6', ['::1/128']),
  rule('an unspecified address', 'ipv6', ['::/128']),
  rule('a private (unique local) address', 'ipv6', ['fc00::/7']),
  rule('a link-local address', 'ipv6', ['fe80::/10', 'fec0::/10']),
  rule('a multicast address', 'ipv6', ['ff00::/8']),
  // NAT64, 6to4 and Teredo carry an IPv4 address inside, which could be a private one.
  rule('an IPv4-translation address', 'ipv6', ['64:ff9b::/96', '64:ff9b:1::/48', '2002::/16', '2001::/32']),
  // Everything outside 2000::/3 and the documentation and protocol blocks inside it.
  rule('a reserved address', 'ipv6', ['::/3', '4000::/2', '8000::/1', '2001::/23', '2001:db8::/32', '3fff::/20']),
]

const IPV4_MAPPED = rule('an IPv4-mapped address', 'ipv6', ['::ffff:0:0/96'])

export interface AddressVerdict {
  /** Why the address is refused by default, e.g. "a loopback address"; undefined for a public one. */
  readonly refusedAs: string | undefined
  /** True for cloud metadata addresses, which a CIDR entry of the allow list does not open. */
  readonly metadata: boolean
}

/**
 * Classifies an IP address. An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is judged as the
 * IPv4 address it carries: net.BlockList matches such addresses against IPv4 rules.
 */
export function classifyAddress(address: string): AddressVerdict {
  const family = isIP(address)
  if (family === 0) return { refusedAs: 'not an IP address', metadata: false }
  const type = family === 4 ? 'ipv4' : 'ipv6'
  const rules = family === 4 || IPV4_MAPPED.list.check(address, 'ipv6') ? IPV4_RULES : IPV6_RULES
  const match = rules.find((r) => r.list.check(address, type))
  return { refusedAs: match?.label, metadata: match === METADATA_V4 || match === METADATA_V6 }
}
