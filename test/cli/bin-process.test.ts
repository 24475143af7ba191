import { spawn, spawnSync } from 'node:child_process'
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

  it('stops quietly when the reader of its output goes away (flow-manager run … | head -1)', async () => {
    const env = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, DATABASE_URL: undefined, FLOW_MANAGER_TASKS: undefined }
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'run', 'examples/seed-flow.json', '--db', 'sqlite::memory:'], { cwd: REPO, env })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    // Like head -1: take the first line, then close the pipe.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
    child.stdout.destroy()
    const code = await exited
    expect(stderr).not.toMatch(/EPIPE|Error|at /)
    expect([0, 1]).toContain(code)
  })
})
