import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { api, startFlowManager, until, type ServeProcess } from '../support/serve-process.js'

/** A resume with a new input is recorded: a crash during the resumed run recovers with that input, not the old one. */

interface Execution {
  execution_id: string
  status: string
  input: unknown
  current_task: string | null
  task_results: { task_name: string; status: string; attempt: number; data: unknown }[]
}

const flow = { id: 'by-input', name: 'By input', start_task: 'work', tasks: [{ name: 'work', type: 'by-input', input: { mode: '${input.mode}' } }], conditions: [] }
const dir = mkdtempSync(join(tmpdir(), 'flow-manager-resume-'))
const processes: ServeProcess[] = []
afterEach(async () => {
  for (const p of processes.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL')
      await p.exited
    }
  }
  rmSync(dir, { recursive: true, force: true })
})

async function serve(): Promise<ServeProcess> {
  // A lease of ten minutes: the restarted process takes the work at once because the dead one is proven dead.
  const p = await startFlowManager(['serve', '--db', `sqlite:${join(dir, 'flows.db')}`, '--tasks', 'test/fixtures/crash-tasks.ts'], { FLOW_MANAGER_LEASE_MS: '600000' })
  processes.push(p)
  return p
}

describe('resume with a new input, then a crash', () => {
  it('recovers the resumed run with the new input', { timeout: 120_000 }, async () => {
    const first = await serve()
    const failed = await api<Execution>(first.url, '/api/v1/executions', { body: { flow, input: { mode: 'fail' } } })
    expect(failed.status).toBe('failed')
    const id = failed.execution_id
    // Resumed with an input that holds the task until the process stops.
    await api<Execution>(first.url, `/api/v1/executions/${id}/resume`, { body: { input: { mode: 'hold' }, wait: false } })
    await until(
      async () => (await api<Execution>(first.url, `/api/v1/executions/${id}`)).task_results.some((r) => r.status === 'running'),
      30_000,
      () => 'the resumed run did not start',
    )
    first.child.kill('SIGKILL')
    await first.exited

    const second = await serve()
    let execution: Execution | undefined
    await until(
      async () => {
        execution = await api<Execution>(second.url, `/api/v1/executions/${id}`)
        return execution.status !== 'running'
      },
      60_000,
      () => `the execution did not end after the restart: ${JSON.stringify(execution)}\n${second.output()}`,
    )
    expect(execution?.status).toBe('completed')
    expect(execution?.input).toEqual({ mode: 'hold' })
    // The recovered run was given the new input (with the old one it would have failed again).
    expect(execution?.task_results.map((r) => `${r.task_name}:${r.status}:${r.attempt}`)).toEqual(['work:failure:1', 'work:interrupted:1', 'work:success:2'])
    expect(execution?.task_results.at(-1)?.data).toEqual({ mode: 'hold', attempt: 2 })
  })
})
