import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { api, startFlowManager, until, type ServeProcess } from '../support/serve-process.js'

const dir = mkdtempSync(join(tmpdir(), 'flow-manager-watch-'))
const tasksFile = join(dir, 'tasks.ts')
const release = join(dir, 'release')

/**
 * A task module whose one task type says which version of the code ran it. With `{"hold": true}`
 * it waits until the test creates the release file, so that a run is in progress across a reload.
 */
const tasksSource = (code: number): string => `import { existsSync } from 'node:fs'
const release: string = ${JSON.stringify(release)}
export default [{
  name: 'which-code',
  description: 'Says which version of this file ran it.',
  run: async (input: { hold?: boolean }, context: { signal: AbortSignal }) => {
    while (input.hold === true && !existsSync(release) && !context.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 10))
    return { code: ${code} }
  },
}]
`
const flow = { id: 'which', name: 'Which code', start_task: 'which', tasks: [{ name: 'which', type: 'which-code' }], conditions: [] }

interface View {
  execution_id: string
  status: string
  current_task: string | null
  task_results: { data: unknown }[]
}

let serve: ServeProcess | undefined
afterAll(async () => {
  if (serve !== undefined && serve.child.exitCode === null) {
    serve.child.kill('SIGTERM')
    await serve.exited
  }
  rmSync(dir, { recursive: true, force: true })
})

const run = (url: string, input: object, wait = true): Promise<View> => api<View>(url, '/api/v1/executions', { body: { flow, input, wait } })
const printed = (text: string, after: number): Promise<void> =>
  until(() => serve!.output().slice(after).includes(text), 20_000, () => `"${text}" was not logged:\n${serve!.output().slice(after)}`)

describe('flow-manager serve --watch', () => {
  it('reloads task modules on change: runs in progress finish on their code, new runs use the new code, a broken edit keeps the old code and says where it is broken', async () => {
    writeFileSync(tasksFile, tasksSource(1))
    serve = await startFlowManager(['serve', '--watch', '--tasks', tasksFile, '--db', 'sqlite::memory:'], { LOG_LEVEL: 'info' })
    const { url } = serve
    expect((await run(url, {})).task_results[0]?.data).toEqual({ code: 1 })

    // A run of the first version, held in progress across the reload.
    const held = await run(url, { hold: true }, false)
    await until(async () => (await api<View>(url, `/api/v1/executions/${held.execution_id}`)).current_task === 'which', 10_000, () => 'the held run did not start')

    let mark = serve.output().length
    writeFileSync(tasksFile, tasksSource(2))
    await printed('task modules reloaded', mark)
    expect((await run(url, {})).task_results[0]?.data).toEqual({ code: 2 })

    writeFileSync(release, '')
    await until(async () => (await api<View>(url, `/api/v1/executions/${held.execution_id}`)).status === 'completed', 10_000, () => 'the held run did not finish')
    expect((await api<View>(url, `/api/v1/executions/${held.execution_id}`)).task_results[0]?.data).toEqual({ code: 1 })

    // A syntax error: the server says where, and keeps running the last good code.
    mark = serve.output().length
    writeFileSync(tasksFile, tasksSource(3).replace('return { code: 3 }', 'return { code: 3 '))
    await printed('task modules not reloaded', mark)
    const line = serve.output().slice(mark).split('\n').find((l) => l.includes('task modules not reloaded'))!
    const logged = JSON.parse(line) as { level: number; msg: string }
    expect(logged.level).toBe(50)
    expect(logged.msg).toMatch(/syntax error at .*tasks\.ts:\d+:\d+: /)
    expect(logged.msg).toContain('> ')
    expect(logged.msg).toContain('return { code: 3 ')
    expect((await run(url, {})).task_results[0]?.data).toEqual({ code: 2 })

    // Fixing it reloads again.
    mark = serve.output().length
    writeFileSync(tasksFile, tasksSource(4))
    await printed('task modules reloaded', mark)
    expect((await run(url, {})).task_results[0]?.data).toEqual({ code: 4 })
    expect(existsSync(release)).toBe(true)
  }, 60_000)
})
