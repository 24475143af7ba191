import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { REPO } from './cli-test-io.js'

describe('the flow-manager process', () => {
  // Through tsx from the source rather than dist/, so that a stale build cannot make it pass or fail.
  it('runs the seed flow from bin.ts, prints plain text into a pipe and exits 0', () => {
    const env = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, DATABASE_URL: undefined, FLOW_MANAGER_TASKS: undefined }
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'run', 'examples/seed-flow.json', '--db', 'sqlite::memory:'], {
      cwd: REPO,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^▶ flow123 execution [0-9a-f-]{36}\n {2}→ task1\n {2}✓ task1 /)
    expect(result.stdout).toMatch(/✓ completed · 3 steps · .* · execution [0-9a-f-]{36}\n$/)
    // eslint-disable-next-line no-control-regex
    expect(result.stdout).not.toMatch(/\x1b\[/)
  })
})
