import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { ANSI, testIo } from './cli-test-io.js'
import { INVALID_FLOW, WARNING_FLOW, tempFiles } from './temp-files.js'

const dir = tempFiles({ 'invalid.json': INVALID_FLOW, 'warned.json': WARNING_FLOW, 'broken.json': '{"flow": ' })

describe('flow-manager validate', () => {
  it('exits 0 and says so for a valid flow', async () => {
    const io = testIo()
    expect(await main(['validate', 'examples/seed-flow.json'], io)).toBe(0)
    expect(io.out()).toBe('✓ examples/seed-flow.json is valid (flow "flow123": 3 tasks, 2 conditions)\n')
  })

  it('exits 0 for a flow with warnings and prints each warning with code and path', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['validate', 'warned.json'], io)).toBe(0)
    expect(io.out()).toMatch(/^warning UNREACHABLE_TASK \/tasks\/1 .*orphan.*\n✓ warned.json is valid \(1 warning\)/)
  })

  it('exits 2 and prints every error, one per line, with code, path and message', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['validate', 'invalid.json'], io)).toBe(2)
    const lines = io.out().trimEnd().split('\n')
    expect(lines).toEqual([
      expect.stringMatching(/^error {3}UNKNOWN_KEY \/flow\/conditions\/0\/target_task_sucess unknown key "target_task_sucess" \(did you mean "target_task_success"\?\)/),
      expect.stringMatching(/^error {3}UNKNOWN_TARGET_TASK \/flow\/conditions\/0\/target_task_success condition "c1" routes to unknown task "tsk2"/),
      '✗ invalid.json is invalid: 2 errors',
    ])
    expect(io.out()).not.toMatch(ANSI)
  })

  it('prints {valid, errors, warnings} with --json', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['validate', 'invalid.json', '--json'], io)).toBe(2)
    const result = JSON.parse(io.out())
    expect(result.valid).toBe(false)
    expect(result.warnings).toEqual([])
    expect(result.errors.map((e: { code: string }) => e.code)).toEqual(['UNKNOWN_KEY', 'UNKNOWN_TARGET_TASK'])
    expect(result.errors[1]).toEqual({ code: 'UNKNOWN_TARGET_TASK', path: '/flow/conditions/0/target_task_success', message: expect.any(String) })
  })

  it('prints valid: true and the warnings with --json for a flow that can run', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['validate', 'warned.json', '--json'], io)).toBe(0)
    expect(JSON.parse(io.out())).toMatchObject({ valid: true, errors: [], warnings: [{ code: 'UNREACHABLE_TASK' }] })
  })

  it('colours severities on a terminal', async () => {
    const io = testIo({ cwd: dir, tty: true })
    await main(['validate', 'invalid.json'], io)
    expect(io.out()).toMatch(ANSI)
  })

  it('exits 2 with one line for a missing file or broken JSON', async () => {
    const missing = testIo({ cwd: dir })
    expect(await main(['validate', 'nope.json'], missing)).toBe(2)
    expect(missing.err()).toBe('flow-manager: cannot read nope.json: no such file\n')
    const broken = testIo({ cwd: dir })
    expect(await main(['validate', 'broken.json'], broken)).toBe(2)
    expect(broken.err()).toBe('flow-manager: broken.json is not valid JSON: Unexpected end of JSON input\n')
  })
})

describe('flow-manager graph', () => {
  it('prints a Mermaid flowchart by default', async () => {
    const io = testIo()
    expect(await main(['graph', 'examples/seed-flow.json'], io)).toBe(0)
    expect(io.out()).toMatch(/^flowchart TD\n/)
    expect(io.out()).toContain('t0 -->|success| t1')
  })

  it('prints a Graphviz digraph with --format dot', async () => {
    const io = testIo()
    expect(await main(['graph', 'examples/seed-flow.json', '--format', 'dot'], io)).toBe(0)
    expect(io.out()).toMatch(/^digraph "flow123" \{\n/)
    expect(io.out()).toContain('"task1" -> "task2" [label="success"]')
  })

  it('draws a flow whose task types are not registered: drawing runs nothing', async () => {
    const io = testIo()
    expect(await main(['graph', 'examples/custom-flow.json'], io)).toBe(0)
  })

  it('exits 2 for an unknown format', async () => {
    const io = testIo()
    expect(await main(['graph', 'examples/seed-flow.json', '--format', 'svg'], io)).toBe(2)
    expect(io.err()).toMatch(/^flow-manager: option '--format <format>' argument 'svg' is invalid. Allowed choices are mermaid, dot.\n$/)
  })

  it('exits 2 and lists the problems on stderr for an invalid flow', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['graph', 'invalid.json'], io)).toBe(2)
    expect(io.out()).toBe('')
    expect(io.err()).toMatch(/^flow-manager: invalid.json is not a valid flow \(2 errors\):\nerror {3}UNKNOWN_KEY/)
  })
})
