import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../fixtures/engine.js'

/** A running execution holds its latest results and a bounded history, not every run's data. */

const dir = tempDir()
afterAll(() => dir.remove())
const root = fileURLToPath(new URL('../../', import.meta.url))

describe('memory of a running execution', () => {
  it('stays bounded through 1,000 steps of 100 kB results (100 MB of data in all)', { timeout: 120_000 }, () => {
    // In a process of its own, so that only this execution is on the heap and a full collection can be asked for.
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/support/memory-probe.ts', dir.path], { cwd: root, encoding: 'utf8' })
    const probe = JSON.parse(out) as { status: string; code: string | null; runs: number; samples: { step: number; heapUsed: number }[] }
    expect(probe).toMatchObject({ status: 'failed', code: 'STEP_LIMIT_EXCEEDED', runs: 1000 })
    const first = probe.samples[0]
    const last = probe.samples.at(-1)
    expect(first?.step).toBe(100)
    expect(last?.step).toBe(1000)
    // Keeping every result would add about 90 MB between the first sample and the last.
    const growth = (last?.heapUsed ?? 0) - (first?.heapUsed ?? 0)
    expect(growth).toBeLessThan(16 * 1024 * 1024)
  })
})
