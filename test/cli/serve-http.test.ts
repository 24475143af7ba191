import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { testIo } from './cli-test-io.js'

describe('flow-manager serve, listening for real', () => {
  it('answers /health on the URL it logs and exits 0 after the stop signal', async () => {
    const controller = new AbortController()
    const io = testIo({ env: { LOG_LEVEL: 'info' }, signal: controller.signal })
    const exit = main(['serve', '--port', '0', '--db', 'sqlite::memory:'], io)
    await io.printed('listening on')
    const { url } = JSON.parse(io.out().split('\n').find((l) => l.includes('listening on'))!) as { url: string }
    const health = await fetch(`${url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    controller.abort()
    expect(await exit).toBe(0)
    await expect(fetch(`${url}/health`)).rejects.toThrow()
  })
})
