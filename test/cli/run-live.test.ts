import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { createEngine } from '../../src/engine/engine.js'
import { openStore } from '../../src/store/open-store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import { testIo } from './cli-test-io.js'
import { tempFiles } from './temp-files.js'

/** `flow-manager run` shows runs side by side, waits, retries and for_each progress as they happen. */

const flow = (id: string, tasks: object[], conditions: object[] = []): object => ({ id, name: id, start_task: (tasks[0] as { name: string }).name, tasks, conditions })
const after = (source: string, target: string): object => ({ name: `after_${source}`, source_task: source, outcome: 'success', target_task_success: target, target_task_failure: 'end' })

const dir = tempFiles({
  'group.json': flow('fan', [{ name: 'fan', parallel: ['left', 'right'] }, { name: 'left', type: 'delay', input: { ms: 50 } }, { name: 'right', type: 'delay', input: { ms: 50 } }]),
  'retry.json': flow('flaky', [{ name: 'call', type: 'fail', input: { message: 'upstream down' }, retry: { max_attempts: 2, backoff_ms: 1000 } }]),
  'timer.json': flow('timer', [{ name: 'pause', type: 'wait', input: { ms: 1000 } }]),
  'approval.json': flow('approval', [{ name: 'ask', type: 'wait_for_signal', input: { signal: 'approve' } }, { name: 'done', type: 'noop', input: { got: '${results.ask.data}' } }], [after('ask', 'done')]),
  'each.json': flow('each', [{ name: 'each', type: 'noop', for_each: 'input.list', max_concurrency: 2, input: { n: '${item}' } }]),
  'parent.json': flow('parent', [{ name: 'pay', type: 'subflow', input: { flow_id: 'child' } }]),
})
const db = (name: string): string[] => ['--db', `sqlite:${join(dir, name)}`]

/** The redraws of a terminal's live region: what it showed after each update. */
function frames(out: string): string[][] {
  // eslint-disable-next-line no-control-regex
  return out.split(/\x1b\[\d+F\x1b\[J/).map((chunk) => chunk.split('\n').filter((l) => l !== ''))
}

describe('flow-manager run, live', () => {
  it('starts the branches of a group side by side, in a pipe a line each', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['run', 'group.json', ...db('group.db')], io)).toBe(0)
    const lines = io.out().split('\n')
    const at = (text: string): number => lines.findIndex((l) => l.includes(text))
    expect(lines).toContain('  → fan (parallel)')
    expect(lines).toContain('    → left (delay)')
    // Both branches started before either ended: they ran at once.
    expect(Math.max(at('→ left'), at('→ right'))).toBeLessThan(Math.min(at('✓ left'), at('✓ right')))
    expect(io.out()).toMatch(/ {2}✓ fan \(parallel\) [\d.]+ m?s\n/)
  })

  it('keeps one line per running task at the bottom of a terminal, redrawn in place', async () => {
    const io = testIo({ cwd: dir, tty: true, env: { NO_COLOR: '1' } })
    expect(await main(['run', 'group.json', ...db('group-tty.db')], io)).toBe(0)
    const both = frames(io.out()).find((f) => f.some((l) => l.includes('● left')) && f.some((l) => l.includes('● right')))
    expect(both).toEqual(expect.arrayContaining(['  ● fan (parallel) running', '    ● left (delay) running', '    ● right (delay) running']))
    // What stays on the screen is each run's end, once.
    expect(io.out().match(/✓ left \(delay\)/g)).toHaveLength(1)
    expect(io.out()).not.toContain('→ left')
  })

  it('says when a failed attempt will be retried, and which attempt of how many comes next', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['run', 'retry.json', ...db('retry.db')], io)).toBe(1)
    expect(io.out()).toContain('  ↻ call (fail) failed: upstream down; retrying in 1 s (attempt 2 of 2)\n')
    expect(io.out()).toMatch(/ {2}✗ call \(fail\) attempt 2 [\d.]+ m?s upstream down\n/)
  })

  it('says until when a durable wait waits', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['run', 'timer.json', ...db('timer.db')], io)).toBe(0)
    expect(io.out()).toMatch(/ {2}⏸ pause \(wait\) waiting until \d{4}-\d\d-\d\dT[\d:.]+Z \(in 1 s\)\n/)
  })

  it('says which signal a task waits for and how to send it, and goes on once it is sent', async () => {
    const io = testIo({ cwd: dir })
    const running = main(['run', 'approval.json', ...db('approval.db')], io)
    await io.printed('waiting for signal approve')
    const id = /execution ([0-9a-f-]{36})/.exec(io.out())?.[1] as string
    expect(io.out()).toContain(`⏸ ask (wait_for_signal) waiting for signal approve (send it: flow-manager signal ${id} approve --db sqlite:${join(dir, 'approval.db')})`)
    const sender = testIo({ cwd: dir })
    expect(await main(['signal', id, 'approve', '--data', '{"ok": true}', ...db('approval.db')], sender)).toBe(0)
    expect(await running).toBe(0)
    expect(io.out()).toMatch(/✓ ask \(wait_for_signal\) /)
    expect(io.out()).toMatch(/✓ completed · 2 steps/)
  })

  it('shows a for_each as one line with its items, not a line per item', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['run', 'each.json', ...db('each.db'), '--input', '{"list": [1, 2, 3, 4, 5]}'], io)).toBe(0)
    expect(io.out()).toContain('  → each (noop) over 5 items\n')
    expect(io.out()).toMatch(/ {2}✓ each \(noop\) 5 items [\d.]+ m?s\n/)
    expect(io.out()).not.toContain('[item')

    // A long list shows its progress in a log at each tenth.
    const long = testIo({ cwd: dir })
    expect(await main(['run', 'each.json', ...db('each-long.db'), '--input', JSON.stringify({ list: Array.from({ length: 40 }, (_, i) => i) })], long)).toBe(0)
    expect(long.out().match(/ {2}… each \(noop\) \d+\/40 items done\n/g)).toEqual(Array.from({ length: 9 }, (_, i) => `  … each (noop) ${(i + 1) * 4}/40 items done\n`))

    const tty = testIo({ cwd: dir, tty: true, env: { NO_COLOR: '1' } })
    expect(await main(['run', 'each.json', ...db('each-tty.db'), '--input', '{"list": [1, 2, 3, 4, 5]}'], tty)).toBe(0)
    expect(frames(tty.out()).flat()).toContain('  ● each (noop) 5/5 items done, 0 running')
  })

  it('nests the runs of a sub-flow under the task that waits for it', async () => {
    const store = await openStore(`sqlite:${join(dir, 'subflow.db')}`)
    const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
    await engine.registerFlow(flow('child', [{ name: 'inner', type: 'noop' }]))
    await engine.close()
    await store.close()
    const io = testIo({ cwd: dir })
    expect(await main(['run', 'parent.json', ...db('subflow.db')], io)).toBe(0)
    expect(io.out()).toMatch(/ {2}⏸ pay \(subflow\) waiting for sub-flow execution [0-9a-f-]{36}\n {4}→ inner \(noop\)\n {4}✓ inner \(noop\)/)
    // Only the execution run from the command line opens and closes the view.
    expect(io.out().match(/▶/g)).toHaveLength(1)
  })
})
