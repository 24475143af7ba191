import type { FastifyInstance } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js'
import type { ExecutionView, TaskRunView } from '../../src/engine/execution-view.js'
import { buildApp } from '../../src/http/app.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import { tempDir } from '../fixtures/engine.js'
import { expectProblem } from './helpers.js'

/** The data and storage limits, and reading an execution of any size, through the HTTP API on a SQLite file. */

const dir = tempDir()
const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of closers.reverse()) await close()
  dir.remove()
})

/** Returns a string of `n` characters. */
const inflate = defineTask({ name: 'inflate', description: 'Returns input.n characters.', run: (input) => ({ text: 'x'.repeat((input as { n: number }).n) }) })

async function service(options: Partial<EngineOptions> = {}): Promise<{ app: FastifyInstance; engine: Engine }> {
  const store = await openSqliteStore({ path: `${dir.path}/${Math.random().toString(36).slice(2)}.db`, synchronous: 'NORMAL' })
  const engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, inflate]), ...options })
  const app = await buildApp({ engine, logger: 'silent' })
  await app.ready()
  closers.push(async () => {
    await app.close()
    await engine.close({ graceMs: 0 })
    await store.close()
  })
  return { app, engine }
}

/** a ⇄ b for ever, each handing the execution input's `s` on as its data: every run stores all of it. */
const pingPong = (maxSteps: number): unknown => ({
  id: 'ping-pong',
  name: 'a and b, back and forth',
  start_task: 'a',
  max_steps: maxSteps,
  tasks: [
    { name: 'a', type: 'noop', input: { v: '${input.s}' } },
    { name: 'b', type: 'noop', input: { v: '${input.s}' } },
  ],
  conditions: [
    { name: 'a-b', source_task: 'a', outcome: 'success', target_task_success: 'b', target_task_failure: 'b' },
    { name: 'b-a', source_task: 'b', outcome: 'success', target_task_success: 'a', target_task_failure: 'a' },
  ],
})

const dataBytes = (runs: readonly TaskRunView[]): number => runs.reduce((sum, r) => sum + (r.data === null ? 0 : JSON.stringify(r.data).length), 0)

/** Every run of an execution, page by page, with what each page held. */
async function allRuns(app: FastifyInstance, id: string, pageSizes: number[] = []): Promise<TaskRunView[]> {
  const runs: TaskRunView[] = []
  let cursor: string | null = null
  do {
    const query: string = cursor === null ? '?limit=1000' : `?limit=1000&cursor=${encodeURIComponent(cursor)}`
    const response = await app.inject({ method: 'GET', url: `/api/v1/executions/${id}/task-runs${query}` })
    expect(response.statusCode).toBe(200)
    const page = response.json<{ items: TaskRunView[]; next_cursor: string | null }>()
    expect(dataBytes(page.items)).toBeLessThanOrEqual(8 * 1024 * 1024)
    pageSizes.push(page.items.length)
    runs.push(...page.items)
    cursor = page.next_cursor
  } while (cursor !== null)
  return runs
}

describe('the storage limit of one execution', () => {
  it('fails a loop that would store more than FLOW_MANAGER_EXECUTION_STORAGE_LIMIT with STORAGE_LIMIT_EXCEEDED', async () => {
    const limit = 16 * 1024 * 1024
    const { app } = await service({ storageLimit: limit })
    const s = 'y'.repeat(900_000)
    const response = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: pingPong(2000), input: { s } } })
    expect(response.statusCode).toBe(200)
    const execution = response.json<ExecutionView>()
    expect(execution.status).toBe('failed')
    expect(execution.error?.code).toBe('STORAGE_LIMIT_EXCEEDED')
    expect(execution.error?.message).toContain('FLOW_MANAGER_EXECUTION_STORAGE_LIMIT')
    // It stopped near the limit, not at max_steps: what it stored is within the limit and close to it.
    const runs = await allRuns(app, execution.execution_id)
    expect(runs.at(-1)).toMatchObject({ status: 'failure', error_code: 'STORAGE_LIMIT_EXCEEDED', data: null })
    const stored = dataBytes(runs) + s.length
    expect(stored).toBeLessThanOrEqual(limit)
    expect(stored).toBeGreaterThan(limit - 2 * 900_100)
    expect(execution.task_run_count).toBeLessThan(20)
  })
})

describe('the data limit', () => {
  it('fails a task run whose input after mapping is over FLOW_MANAGER_DATA_LIMIT with DATA_TOO_LARGE', async () => {
    const { app } = await service({ dataLimit: 100_000 })
    const flow = { id: 'doubled', name: 'Doubled', start_task: 'a', tasks: [{ name: 'a', type: 'noop', input: { v: '${input.s + input.s}' } }], conditions: [] }
    const execution = (await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow, input: { s: 'z'.repeat(60_000) } } })).json<ExecutionView>()
    expect(execution).toMatchObject({ status: 'failed', error: { code: 'TASK_FAILED' }, failed_task: 'a' })
    expect(execution.task_results[0]).toMatchObject({ status: 'failure', error_code: 'DATA_TOO_LARGE' })
    expect(execution.task_results[0]?.error).toContain('over the data limit of 100000')
  })

  it('fails a task run whose result is over FLOW_MANAGER_DATA_LIMIT with DATA_TOO_LARGE', async () => {
    const { app } = await service({ dataLimit: 100_000 })
    const flow = { id: 'big-result', name: 'Big result', start_task: 'a', tasks: [{ name: 'a', type: 'inflate', input: { n: 200_000 } }], conditions: [] }
    const execution = (await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow } })).json<ExecutionView>()
    expect(execution).toMatchObject({ status: 'failed', failed_task: 'a' })
    expect(execution.task_results[0]).toMatchObject({ status: 'failure', error_code: 'DATA_TOO_LARGE', data: null })
    expect(execution.task_results[0]?.error).toContain('FLOW_MANAGER_DATA_LIMIT')
  })

  it('refuses an execution input over FLOW_MANAGER_DATA_LIMIT with 413 before storing anything', async () => {
    const { app, engine } = await service({ dataLimit: 10_000 })
    const response = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: pingPong(10), input: { s: 'q'.repeat(20_000) } } })
    expectProblem(response, 413, 'DATA_TOO_LARGE')
    expect((await engine.reads.list({ limit: 10 })).items).toEqual([])
  })
})

describe('reading an execution of any size', () => {
  const RUNS = 2000
  const s = 'w'.repeat(20_000)
  let app: FastifyInstance
  let id: string

  it('records 2000 runs of 20 kB each (40 MB) for the reads below', async () => {
    ;({ app } = await service())
    const response = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { flow: pingPong(RUNS), input: { s } } })
    const execution = response.json<ExecutionView>()
    expect(execution).toMatchObject({ status: 'failed', error: { code: 'STEP_LIMIT_EXCEEDED' }, task_run_count: RUNS })
    id = execution.execution_id
  }, 120_000)

  it('answers GET /api/v1/executions/{id} with the latest 1,000 runs and at most 8 MiB of their data', async () => {
    const [read, health] = await Promise.all([app.inject({ method: 'GET', url: `/api/v1/executions/${id}` }), app.inject({ method: 'GET', url: '/health' })])
    expect(health.statusCode).toBe(200)
    expect(read.statusCode).toBe(200)
    const execution = read.json<ExecutionView>()
    expect(execution.task_run_count).toBe(RUNS)
    expect(execution.task_results).toHaveLength(1000)
    expect(execution.task_results[0]?.seq).toBe(RUNS - 999)
    expect(execution.task_results.at(-1)?.seq).toBe(RUNS)
    expect(dataBytes(execution.task_results)).toBeLessThanOrEqual(8 * 1024 * 1024)
    // The newest keep their data; older ones say theirs was left out.
    const kept = execution.task_results.filter((r) => r.data_omitted !== true)
    const omitted = execution.task_results.filter((r) => r.data_omitted === true)
    expect(kept.at(-1)?.data).toEqual({ v: s })
    expect(omitted.length).toBeGreaterThan(0)
    expect(omitted.every((r) => r.data === null && r.seq < (kept[0]?.seq ?? 0))).toBe(true)
  })

  it('pages through every run with GET …/task-runs, each page within its bounds', async () => {
    const pages: number[] = []
    const runs = await allRuns(app, id, pages)
    expect(runs.map((r) => r.seq)).toEqual(Array.from({ length: RUNS }, (_, i) => i + 1))
    expect(runs.every((r) => r.data !== null && (r.data as { v: string }).v === s)).toBe(true)
    // 8 MiB of data per page at most: fewer than the 1,000 asked for.
    expect(pages.length).toBeGreaterThan(2)
  })

  it('returns one run whole with GET …/task-runs/{seq}, however old', async () => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/executions/${id}/task-runs/1` })
    expect(response.statusCode).toBe(200)
    expect(response.json<TaskRunView>()).toMatchObject({ seq: 1, task_name: 'a', status: 'success', data: { v: s } })
    expectProblem(await app.inject({ method: 'GET', url: `/api/v1/executions/${id}/task-runs/${RUNS + 1}` }), 404, 'EXECUTION_NOT_FOUND')
  })
})
