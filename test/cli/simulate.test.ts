import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { REPO, testIo } from './cli-test-io.js'

describe('flow-manager simulate', () => {
  it('prints the path and exits 0 when the simulated execution completes', async () => {
    const io = testIo({ cwd: REPO })
    expect(await main(['simulate', 'examples/seed-flow.json'], io)).toBe(0)
    expect(io.out()).toContain('task1 → task2 → task3 → completed')
  })

  it('exits 1 when a --outcome makes it fail, and prints JSON with --json', async () => {
    const io = testIo({ cwd: REPO })
    expect(await main(['simulate', 'examples/seed-flow.json', '--outcome', 'task2=failure', '--json'], io)).toBe(1)
    expect(JSON.parse(io.out())).toMatchObject({ path: ['task1', 'task2'], status: 'failed', failed_task: 'task2' })
  })

  it('exits 2 for an outcome that names no task', async () => {
    const io = testIo({ cwd: REPO })
    expect(await main(['simulate', 'examples/seed-flow.json', '--outcome', 'task9=failure'], io)).toBe(2)
    expect(io.err()).toContain('"task9"')
  })
})
