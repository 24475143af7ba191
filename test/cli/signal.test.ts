import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { openStore } from '../../src/store/open-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import { until } from '../support/serve-process.js'
import { REPO, testIo } from './cli-test-io.js'
import { tempFiles } from './temp-files.js'

/** `flow-manager signal`: kept in the database for whichever process holds the execution. */

const dir = tempFiles({ 'payload.json': { approved: true, by: 'file' } })
const DB = `sqlite:${join(dir, 'signals.db')}`
const waits = { id: 'waits', name: 'waits', start_task: 'ask', tasks: [{ name: 'ask', type: 'wait_for_signal', input: { signal: 'approve' } }], conditions: [] }

let store: Store
let engine: Engine
beforeAll(async () => {
  store = await openStore(DB)
  engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
})
afterAll(async () => {
  await engine.close({ graceMs: 0 })
  await store.close()
})

/** An execution parked on its wait in the database file. */
const parked = async (): Promise<string> => (await engine.start({ flow: waits })).executionId
const signal = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
  const io = testIo({ cwd: dir })
  const code = await main(['signal', ...argv], io)
  return { code, out: io.out(), err: io.err() }
}

describe('flow-manager signal', () => {
  it('keeps the signal for the execution, whose wait takes the payload as its data, and exits 0', async () => {
    const id = await parked()
    const sent = await signal([id, 'approve', '--data', '{"approved": true, "by": "ana"}', '--db', DB])
    expect(sent).toEqual({ code: 0, out: `✓ signal approve kept for execution ${id}; the next wait_for_signal task waiting for it takes it\n`, err: '' })
    const done = await engine.waitForEnd(id)
    expect(done.execution.status).toBe('completed')
    expect(done.runs[0]?.data).toEqual({ approved: true, by: 'ana' })
  })

  it('reads the payload from --data-file, sends null without one, and prints JSON with --json', async () => {
    const first = await parked()
    expect((await signal([first, 'approve', '--data-file', 'payload.json', '--db', DB])).code).toBe(0)
    expect((await engine.waitForEnd(first)).runs[0]?.data).toEqual({ approved: true, by: 'file' })
    const second = await parked()
    const sent = await signal([second, 'approve', '--json', '--db', DB])
    expect(JSON.parse(sent.out)).toEqual({ execution_id: second, signal: 'approve', accepted: true })
    expect((await engine.waitForEnd(second)).runs[0]?.data).toBeNull()
  })

  it('takes the database from DATABASE_URL', async () => {
    const id = await parked()
    const io = testIo({ cwd: dir, env: { DATABASE_URL: DB } })
    expect(await main(['signal', id, 'approve'], io)).toBe(0)
    expect((await engine.waitForEnd(id)).execution.status).toBe('completed')
  })

  it('exits 1 with one line when the execution has finished', async () => {
    const id = await parked()
    await signal([id, 'approve', '--db', DB])
    await engine.waitForEnd(id)
    expect(await signal([id, 'approve', '--db', DB])).toEqual({ code: 1, out: '', err: `flow-manager: execution "${id}" has finished; it takes no more signals\n` })
  })

  it('exits 2 with one line for an unknown execution, a bad name, bad data or both data options', async () => {
    expect(await signal(['nope', 'approve', '--db', DB])).toEqual({ code: 2, out: '', err: 'flow-manager: no execution "nope"\n' })
    const id = await parked()
    const badName = await signal([id, 'two words', '--db', DB])
    expect(badName.code).toBe(2)
    expect(badName.err).toMatch(/^flow-manager: signal name "two words" is not valid: a signal name is 1 to 200 letters, digits/)
    const badData = await signal([id, 'approve', '--data', '{approved: true}', '--db', DB])
    expect(badData.code).toBe(2)
    expect(badData.err).toMatch(/^flow-manager: --data is not valid JSON: .*; quote it for the shell/)
    expect(await signal([id, 'approve', '--data', '1', '--data-file', 'payload.json', '--db', DB])).toMatchObject({ code: 2, err: 'flow-manager: give the payload with --data or with --data-file, not both\n' })
    expect(await signal([id, '--db', DB])).toMatchObject({ code: 2, err: "flow-manager: missing required argument 'name'\n" })
    for (const e of [badName, badData]) expect(e.err.split('\n')).toHaveLength(2)
    await engine.cancel(id)
  })

  it('is listed in the help', async () => {
    const io = testIo()
    expect(await main(['--help'], io)).toBe(0)
    expect(io.out()).toMatch(/signal \[options\] <execution> <name> +send a signal to an execution/)
  })
})

describe('flow-manager run and flow-manager signal as processes', () => {
  it('runs the approval example until another process sends the signal, then completes', async () => {
    const file = `sqlite:${join(dir, 'processes.db')}`
    const env = { ...process.env, NO_COLOR: '1', DATABASE_URL: undefined, FLOW_MANAGER_TASKS: undefined }
    const run = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'run', 'examples/approval-flow.json', '--input', '{"amount": 30}', '--db', file], { cwd: REPO, env })
    let out = ''
    run.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    run.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)))
    await until(() => out.includes('waiting for signal approve'), 60_000, () => `the run never waited for its signal:\n${out}`)
    const id = /execution ([0-9a-f-]{36})/.exec(out)?.[1] as string
    const sender = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'signal', id, 'approve', '--data', '{"approved": true, "by": "ana"}', '--db', file], { cwd: REPO, env })
    let sent = ''
    sender.stdout.on('data', (chunk: Buffer) => (sent += chunk.toString()))
    expect(await new Promise((resolve) => sender.once('exit', resolve))).toBe(0)
    expect(sent).toContain(`signal approve kept for execution ${id}`)
    expect(await exited).toBe(0)
    expect(out).toMatch(/✓ approval \(wait_for_signal\) .* → pay_out\n/)
    expect(out).toMatch(/✓ completed · 3 steps/)
  })
})
