import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { ANSI, REPO, testIo } from './cli-test-io.js'
import { INVALID_FLOW, lineFlow, tempFiles } from './temp-files.js'

const MEMORY = ['--db', 'sqlite::memory:']
const SEED = join(REPO, 'examples/seed-flow.json')
const dir = tempFiles({
  'invalid.json': INVALID_FLOW,
  'broken.json': '{\n  "flow": {\n    "id": "x",\n  }\n}\n',
  'empty.json': '',
  'wait.json': lineFlow('waits', [{ name: 'task1' }, { name: 'wait', type: 'delay', input: { ms: 600_000 } }, { name: 'task3' }]),
  'input.json': { fail: ['task3'] },
})

describe('flow-manager run', () => {
  it('runs the seed flow to completion, shows each task and a summary, and exits 0', async () => {
    const io = testIo()
    expect(await main(['run', 'examples/seed-flow.json', ...MEMORY], io)).toBe(0)
    const out = io.out()
    for (const task of ['task1', 'task2', 'task3']) {
      expect(out).toContain(`→ ${task}\n`)
      expect(out).toMatch(new RegExp(`✓ ${task} [\\d.]+ m?s`))
    }
    expect(out).toMatch(/✓ completed · 3 steps · .* · execution [0-9a-f-]{36}\n$/)
    expect(io.err()).toBe('')
  })

  it('exits 1 and names the error code, message and failed task when a task fails', async () => {
    const io = testIo()
    expect(await main(['run', 'examples/seed-flow.json', ...MEMORY, '--input', '{"fail": ["task2"]}'], io)).toBe(1)
    expect(io.out()).toContain('✗ task2')
    expect(io.out()).toMatch(/✗ failed · 2 steps .*\n {2}TASK_FAILED in task "task2": task "task2" failed: asked to fail/)
  })

  it('prints only the execution, in the API representation, as JSON with --json', async () => {
    const io = testIo()
    expect(await main(['run', 'examples/seed-flow.json', ...MEMORY, '--json'], io)).toBe(0)
    const view = JSON.parse(io.out())
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/
    expect(view).toMatchObject({
      flow_id: 'flow123',
      status: 'completed',
      input: {},
      executed_tasks: ['task1', 'task2', 'task3'],
      failed_task: null,
      error: null,
      created_at: expect.stringMatching(iso),
      started_at: expect.stringMatching(iso),
      finished_at: expect.stringMatching(iso),
    })
    expect(view.execution_id).toEqual(expect.any(String))
    expect(view).toHaveProperty('flow_version')
    expect(view.task_results).toHaveLength(3)
    expect(view.task_results[0]).toMatchObject({
      task_name: 'task1',
      status: 'success',
      attempt: 1,
      data: { count: 3 },
      error: null,
      started_at: expect.stringMatching(iso),
      finished_at: expect.stringMatching(iso),
      duration_ms: expect.any(Number),
      next_task: 'task2',
    })
  })

  it('reports a failed execution in --json with failed_task and error, and exits 1', async () => {
    const io = testIo()
    expect(await main(['run', 'examples/seed-flow.json', ...MEMORY, '--json', '--input', '{"fail":"task1"}'], io)).toBe(1)
    const view = JSON.parse(io.out())
    expect(view).toMatchObject({ status: 'failed', failed_task: 'task1', error: { code: 'TASK_FAILED' }, executed_tasks: ['task1'] })
  })

  it('reads the execution input from --input-file', async () => {
    const io = testIo()
    expect(await main(['run', 'examples/seed-flow.json', ...MEMORY, '--json', '--input-file', join(dir, 'input.json')], io)).toBe(1)
    expect(JSON.parse(io.out())).toMatchObject({ input: { fail: ['task3'] }, failed_task: 'task3' })
  })

  it('writes plain text without ANSI codes when stdout is not a terminal', async () => {
    const io = testIo({ tty: false })
    await main(['run', 'examples/seed-flow.json', ...MEMORY], io)
    expect(io.out()).not.toMatch(ANSI)
  })

  it('colours the output on a terminal and replaces the running line with the result', async () => {
    const io = testIo({ tty: true })
    expect(await main(['run', 'examples/seed-flow.json', ...MEMORY], io)).toBe(0)
    expect(io.out()).toMatch(ANSI)
    // The cursor goes back over the live line and erases it before the result is written.
    expect(io.out()).toContain('\x1b[1F\x1b[J')
  })

  it('writes no colour codes on a terminal when NO_COLOR is set', async () => {
    const io = testIo({ tty: true, env: { NO_COLOR: '1' } })
    expect(await main(['run', 'examples/seed-flow.json', ...MEMORY, '--input', '{"fail":["task2"]}'], io)).toBe(1)
    // eslint-disable-next-line no-control-regex
    expect(io.out().replace(/\x1b\[\d+F\x1b\[J/g, '')).not.toMatch(ANSI)
  })

  it('cancels the execution when interrupted, reports it cancelled and exits 1', async () => {
    const controller = new AbortController()
    const io = testIo({ signal: controller.signal, cwd: dir })
    const exit = main(['run', 'wait.json', ...MEMORY], io)
    await io.printed('→ wait (delay)')
    controller.abort()
    expect(await exit).toBe(1)
    expect(io.out()).toMatch(/✗ cancelled · 2 steps .*\n {2}EXECUTION_CANCELLED: cancelled from the command line/)
    expect(io.out()).not.toContain('task3')
  })

  it('resolves a relative sqlite:PATH from --db against the working directory', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['run', SEED, '--db', 'sqlite:./dbs/run.db'], io)).toBe(0)
    expect(existsSync(join(dir, 'dbs/run.db'))).toBe(true)
  })

  it('takes the database from DATABASE_URL when --db is not given', async () => {
    const io = testIo({ cwd: dir, env: { DATABASE_URL: 'sqlite:env.db' } })
    expect(await main(['run', SEED], io)).toBe(0)
    expect(existsSync(join(dir, 'env.db'))).toBe(true)
  })

  it('defaults to sqlite:./data/flow-manager.db under the working directory', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['run', SEED], io)).toBe(0)
    expect(existsSync(join(dir, 'data/flow-manager.db'))).toBe(true)
  })
})

describe('flow-manager run, given something wrong', () => {
  const failsWith = async (argv: string[], message: string | RegExp): Promise<string> => {
    const io = testIo({ cwd: dir })
    expect(await main(argv, io)).toBe(2)
    expect(io.out()).toBe('')
    expect(io.err()).toMatch(message)
    expect(io.err()).not.toMatch(/\n\s+at /)
    return io.err()
  }

  it('exits 2 with one line when the flow file does not exist', async () => {
    const err = await failsWith(['run', 'nope.json', ...MEMORY], 'flow-manager: cannot read nope.json: no such file\n')
    expect(err.split('\n')).toHaveLength(2)
  })

  it('exits 2 and says where when the flow file is not JSON', async () => {
    await failsWith(['run', 'broken.json', ...MEMORY], /^flow-manager: broken.json is not valid JSON: .*\(line 4, column 3\)\n$/)
  })

  it('exits 2 and says where when the input holds text no store keeps (NUL, a lone surrogate)', async () => {
    await failsWith(['run', SEED, ...MEMORY, '--input', '{"a": ["ok", "\\u0000"]}'], /^flow-manager: --input: the text at "\/a\/1" contains a NUL character/)
    await failsWith(['run', SEED, ...MEMORY, '--input', '{"\\ud800": 1}'], /^flow-manager: --input: the key at "\/\\ud800" contains a lone surrogate/)
  })

  it('exits 2 when the flow file is empty', async () => {
    await failsWith(['run', 'empty.json', ...MEMORY], 'flow-manager: empty.json is empty; expected JSON\n')
  })

  it('exits 2 and lists every problem with code and path when the flow is invalid', async () => {
    const err = await failsWith(['run', 'invalid.json', ...MEMORY], /^flow-manager: invalid.json is not a valid flow \(2 errors\):\n/)
    expect(err).toMatch(/error +UNKNOWN_KEY \/flow\/conditions\/0\/target_task_sucess unknown key/)
    expect(err).toMatch(/error +UNKNOWN_TARGET_TASK \/flow\/conditions\/0\/target_task_success condition "c1" routes to unknown task "tsk2"/)
  })

  it('exits 2 when a task type is not registered', async () => {
    await failsWith(['run', 'examples/custom-flow.json', ...MEMORY].map((a) => a.replace('examples', `${REPO}examples`)), /UNKNOWN_TASK_TYPE \/flow\/tasks\/0\/name task "greet" needs task type "greet"/)
  })

  it('exits 2 when --input is not JSON, with a hint about shell quoting', async () => {
    await failsWith(['run', SEED, ...MEMORY, '--input', '{fail:[task2]}'], /^flow-manager: --input is not valid JSON: .*\(line 1, column 2\); quote it for the shell/)
  })

  it('exits 2 when both --input and --input-file are given', async () => {
    await failsWith(['run', SEED, ...MEMORY, '--input', '{}', '--input-file', 'input.json'], 'flow-manager: give the input with --input or with --input-file, not both\n')
  })

  it('exits 2 when --input-file does not exist', async () => {
    await failsWith(['run', SEED, ...MEMORY, '--input-file', 'missing.json'], 'flow-manager: cannot read missing.json: no such file\n')
  })

  it('exits 2 when the database URL is not one it knows', async () => {
    await failsWith(['run', SEED, '--db', 'mysql://localhost/x'], /^flow-manager: database URL "mysql:\/\/localhost\/x" is not one Flow Manager knows/)
  })

  it('exits 2 when LOG_LEVEL is not a level', async () => {
    const io = testIo({ env: { LOG_LEVEL: 'loud' } })
    expect(await main(['run', SEED, ...MEMORY], io)).toBe(2)
    expect(io.err()).toBe('flow-manager: LOG_LEVEL "loud" is not a log level; use one of fatal, error, warn, info, debug, trace, silent\n')
  })

  it('exits 2 on an unknown option', async () => {
    await failsWith(['run', SEED, '--bogus'], "flow-manager: unknown option '--bogus'\n")
  })

  it('exits 2 when the flow file is missing from the command', async () => {
    await failsWith(['run'], "flow-manager: missing required argument 'flow'\n")
  })
})
