import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { json, startHttpTarget, type HttpTarget } from '../fixtures/http-target.js'
import { testIo } from './cli-test-io.js'
import { lineFlow, tempFiles } from './temp-files.js'

let target: HttpTarget
beforeAll(async () => {
  target = await startHttpTarget()
  target.route('/status', json(200, { up: true }))
})
afterAll(() => target.close())

const dir = tempFiles({ 'call.json': lineFlow('call', [{ name: 'call', type: 'http', input: { url: '${input.url}' } }]) })
const run = (env: Record<string, string>): Promise<number> & { io: ReturnType<typeof testIo> } => {
  const io = testIo({ env })
  const exit = main(['run', join(dir, 'call.json'), '--db', 'sqlite::memory:', '--input', JSON.stringify({ url: `${target.origin}/status` })], io)
  return Object.assign(exit, { io })
}

describe('FLOW_MANAGER_HTTP_ALLOW', () => {
  it('lets `run` call a local server it lists, by host:port or CIDR', async () => {
    for (const allow of [`127.0.0.1:${target.port}`, 'localhost, 127.0.0.0/8']) {
      const exit = run({ FLOW_MANAGER_HTTP_ALLOW: allow })
      expect(await exit).toBe(0)
      expect(exit.io.out()).toContain('✓ call')
    }
  })

  it('leaves the local server refused when it is not set', async () => {
    const exit = run({})
    expect(await exit).toBe(1)
    expect(exit.io.out()).toContain(`refused to connect to 127.0.0.1 port ${target.port}, a loopback address`)
  })

  it('stops the command with exit 2 and names the bad entry', async () => {
    const exit = run({ FLOW_MANAGER_HTTP_ALLOW: 'localhost, 10.0.0.0/40' })
    expect(await exit).toBe(2)
    expect(exit.io.err()).toContain('FLOW_MANAGER_HTTP_ALLOW: allow-list entry "10.0.0.0/40" is not a CIDR')
  })
})
