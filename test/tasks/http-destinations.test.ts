import { describe, expect, it } from 'vitest'
import { isFlowManagerError } from '../../src/core/errors.js'
import { classifyAddress } from '../../src/tasks/outbound-http/address-policy.js'
import { parseHttpAllowList } from '../../src/tasks/outbound-http/allow-list.js'
import { createDestinationGuard } from '../../src/tasks/outbound-http/destination-guard.js'

describe('which addresses the guard refuses by default', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['0.0.0.0', 'an unspecified ("this network") address'],
    ['::', 'an unspecified address'],
    ['10.1.2.3', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['fd12:3456::1', 'a private (unique local) address'],
    ['169.254.1.1', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['224.0.0.251', 'a multicast address'],
    ['ff02::fb', 'a multicast address'],
    ['100.64.0.1', 'a carrier-grade NAT address'],
    ['169.254.169.254', 'a cloud metadata address'],
    ['169.254.170.2', 'a cloud metadata address'],
    ['100.100.100.200', 'a cloud metadata address'],
    ['192.0.0.192', 'a cloud metadata address'],
    ['168.63.129.16', 'a cloud metadata address'],
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:a00:1', 'a private address'],
    ['::ffff:169.254.169.254', 'a cloud metadata address'],
    ['64:ff9b::a00:1', 'an IPv4-translation address'],
    ['2002:7f00:1::1', 'an IPv4-translation address'],
    ['255.255.255.255', 'a reserved address'],
    ['198.18.0.1', 'a reserved address'],
    ['2001:db8::1', 'a reserved address'],
    ['::7f00:1', 'a reserved address'],
  ])('refuses %s as %s', (address, label) => {
    expect(classifyAddress(address).refusedAs).toBe(label)
  })

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('lets public %s through', (address) => {
    expect(classifyAddress(address).refusedAs).toBeUndefined()
  })

  it('marks metadata addresses, which only an entry naming them opens', () => {
    expect(classifyAddress('169.254.169.254').metadata).toBe(true)
    expect(classifyAddress('169.254.1.1').metadata).toBe(false)
  })
})

describe('FLOW_MANAGER_HTTP_ALLOW entries', () => {
  it('matches host names by name and port, case- and trailing-dot-insensitively', () => {
    const allow = parseHttpAllowList(['Api.Internal', ' localhost:8080 ', ''])
    expect(allow.entries).toEqual(['Api.Internal', 'localhost:8080'])
    expect(allow.allowsName('api.internal', 443)).toBe(true)
    expect(allow.allowsName('api.internal.', 80)).toBe(true)
    expect(allow.allowsName('localhost', 8080)).toBe(true)
    expect(allow.allowsName('localhost', 8081)).toBe(false)
    expect(allow.allowsName('other.internal', 443)).toBe(false)
  })

  it('matches addresses and CIDRs, IPv4-mapped forms included, with a port when one is given', () => {
    const allow = parseHttpAllowList(['10.0.0.0/8', '127.0.0.1:8080', '[::1]:9090', 'fd00::/8'])
    expect(allow.allowsAddress('10.9.8.7', 1, false)).toBe(true)
    expect(allow.allowsAddress('::ffff:10.9.8.7', 1, false)).toBe(true)
    expect(allow.allowsAddress('127.0.0.1', 8080, false)).toBe(true)
    expect(allow.allowsAddress('127.0.0.1', 8081, false)).toBe(false)
    expect(allow.allowsAddress('::1', 9090, false)).toBe(true)
    expect(allow.allowsAddress('fd00::5', 1, false)).toBe(true)
    expect(allow.allowsAddress('192.168.0.1', 1, false)).toBe(false)
  })

  it('opens a metadata address only by an entry naming that address', () => {
    expect(parseHttpAllowList(['169.254.0.0/16']).allowsAddress('169.254.169.254', 80, true)).toBe(false)
    expect(parseHttpAllowList(['169.254.169.254']).allowsAddress('169.254.169.254', 80, true)).toBe(true)
    expect(parseHttpAllowList(['169.254.169.254/32']).allowsAddress('169.254.169.254', 80, true)).toBe(true)
  })

  it('turns the guard off with 0.0.0.0/0,::/0, metadata addresses aside', () => {
    const all = parseHttpAllowList(['0.0.0.0/0', '::/0'])
    expect(['10.0.0.1', '127.0.0.1', 'fd00::1', '::1', '::ffff:192.168.0.1'].map((a) => all.allowsAddress(a, 80, false))).toEqual([true, true, true, true, true])
    expect(all.allowsAddress('169.254.169.254', 80, true)).toBe(false)
  })

  it.each([
    ['10.0.0.0/33', 'is not a CIDR'],
    ['nonsense/8', 'is not a CIDR'],
    ['localhost:99999', 'has a port outside 1-65535'],
    ['*.internal', 'has a wildcard'],
    ['http://api.internal', 'is a URL; give its host'],
    ['a:b:c', 'is not understood'],
    ['a b', 'is not a valid host name'],
  ])('refuses the entry %j with INPUT_INVALID: %s', (entry, why) => {
    let error: unknown
    try {
      parseHttpAllowList([entry])
    } catch (e) {
      error = e
    }
    expect(isFlowManagerError(error) && error.code).toBe('INPUT_INVALID')
    expect((error as Error).message).toContain(`allow-list entry "${entry}" ${why}`)
  })
})

describe('the destination guard', () => {
  const guard = (allow: string[], answers: Record<string, string[]>): ReturnType<typeof createDestinationGuard> =>
    createDestinationGuard(parseHttpAllowList(allow), (name) => Promise.resolve(answers[name] ?? []))

  it('connects to the first permitted address of a name that has public and private ones', async () => {
    expect(await guard([], { 'mixed.test': ['10.0.0.1', '93.184.216.34'] })('mixed.test', 80)).toBe('93.184.216.34')
  })

  it('refuses a name whose every address is refused, listing them', async () => {
    await expect(guard([], { 'lan.test': ['10.0.0.1', 'fd00::1'] })('lan.test', 80)).rejects.toMatchObject({
      code: 'HTTP_DESTINATION_REFUSED',
      message: expect.stringContaining('which resolves to 10.0.0.1 (a private address), fd00::1 (a private (unique local) address)'),
    })
  })

  it('fails with a retryable HTTP_REQUEST_FAILED when a name resolves to nothing usable', async () => {
    await expect(guard([], { 'junk.test': ['not-an-ip'] })('junk.test', 80)).rejects.toMatchObject({ code: 'HTTP_REQUEST_FAILED', retryable: true })
    const failing = createDestinationGuard(parseHttpAllowList([]), () => Promise.reject(new Error('getaddrinfo ENOTFOUND nowhere.test')))
    await expect(failing('nowhere.test', 80)).rejects.toMatchObject({ code: 'HTTP_REQUEST_FAILED', message: expect.stringContaining('ENOTFOUND') })
  })

  it('judges an address literal itself, bracketed or not, without resolving it', async () => {
    const never = createDestinationGuard(parseHttpAllowList(['::1']), () => Promise.reject(new Error('resolved')))
    expect(await never('[::1]', 80)).toBe('::1')
    await expect(never('127.0.0.1', 80)).rejects.toMatchObject({ code: 'HTTP_DESTINATION_REFUSED' })
  })
})
