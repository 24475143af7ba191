import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js'
import { buildApp } from '../../src/http/app.js'
import { openStore } from '../../src/store/open-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import orchestrationTasks from '../fixtures/orchestration-tasks.js'
import { createTestDatabase, pgAvailable } from '../support/postgres.js'

/** The HTTP API on a real store, with the built-in task types and those of orchestration-tasks.ts. */
export interface StoreApp {
  readonly app: FastifyInstance
  readonly engine: Engine
  readonly store: Store
  /** A JSON request through the app; answers the status and the parsed body. */
  call<T = Record<string, unknown>>(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<{ status: number; body: T; response: LightMyRequestResponse }>
}

export type StoreKind = 'sqlite' | 'postgres'

const pg = await pgAvailable()

/**
 * Runs `suite` once on a SQLite file and once on a PostgreSQL database of its own (skipped, with
 * a warning, when no PostgreSQL answers), each through `buildApp` and `inject`.
 */
export function describeOnStores(name: string, suite: (ctx: () => StoreApp, kind: StoreKind) => void, engineOptions: Partial<EngineOptions> = {}): void {
  for (const kind of ['sqlite', 'postgres'] as const) {
    describe.skipIf(kind === 'postgres' && !pg)(`${name} (${kind})`, () => {
      let current: StoreApp | undefined
      let cleanup: (() => Promise<void>) | undefined
      beforeAll(async () => {
        let url: string
        let drop: () => Promise<void>
        if (kind === 'sqlite') {
          const dir = mkdtempSync(join(tmpdir(), 'flow-manager-api-'))
          url = `sqlite:${join(dir, 'flows.db')}`
          drop = () => Promise.resolve(rmSync(dir, { recursive: true, force: true }))
        } else {
          const database = await createTestDatabase('fm_api')
          url = database.url
          drop = () => database.drop()
        }
        const store = await openStore(url)
        const engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, ...orchestrationTasks]), flowCacheMs: 0, ...engineOptions })
        const app = await buildApp({ engine, logger: 'silent' })
        await app.ready()
        current = {
          app,
          engine,
          store,
          async call(method, url, payload) {
            const response = await app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) })
            return { status: response.statusCode, body: response.json(), response }
          },
        }
        cleanup = async () => {
          await app.close()
          await engine.close({ graceMs: 0 })
          await store.close()
          await drop()
        }
      })
      afterAll(async () => {
        await cleanup?.()
      })
      suite(() => {
        if (current === undefined) throw new Error('the app is not ready')
        return current
      }, kind)
    })
  }
}

/** A flow of one task (named `t`), with the flow fields given. */
export function oneTask(id: string, task: Record<string, unknown>, flow: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, name: id, start_task: 't', tasks: [{ name: 't', ...task }], conditions: [], ...flow }
}

/** A condition: success goes to `onSuccess`, failure to `onFailure` (default end). */
export function route(source: string, onSuccess: string, onFailure = 'end'): Record<string, unknown> {
  return { name: `after_${source}`, source_task: source, outcome: 'success', target_task_success: onSuccess, target_task_failure: onFailure }
}

export interface RunView {
  readonly seq: number
  readonly task_name: string
  readonly task_type: string
  readonly status: string
  readonly attempt: number
  readonly data: unknown
  readonly error: string | null
  readonly error_code: string | null
  readonly next_task: string | null
  readonly parent_seq: number | null
  readonly branch: string | null
  readonly item_index: number | null
  readonly waiting_for: Record<string, unknown> | null
  readonly retry_at: string | null
  readonly started_at: string
  readonly finished_at: string | null
}

export interface ExecutionBody {
  readonly execution_id: string
  readonly status: string
  readonly current_task: string | null
  readonly failed_task: string | null
  readonly error: { code: string; message: string } | null
  readonly executed_tasks: string[]
  readonly task_results: RunView[]
  readonly task_run_count: number
  readonly parent_execution_id: string | null
  readonly parent_task: string | null
}

/** `task:status:attempt` for each run, in order: the shape most assertions compare. */
export function runsOf(execution: ExecutionBody): string[] {
  return execution.task_results.map((r) => `${r.task_name}:${r.status}:${r.attempt}`)
}

/** Polls the execution until `check` holds; the deadline bounds a failure and asserts nothing about speed. */
export async function readUntil(ctx: StoreApp, id: string, check: (e: ExecutionBody) => boolean, what: string, deadlineMs = 20_000): Promise<ExecutionBody> {
  const end = Date.now() + deadlineMs
  let last: ExecutionBody | undefined
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    last = (await ctx.call<ExecutionBody>('GET', `/api/v1/executions/${id}`)).body
    if (check(last)) return last
    if (Date.now() > end) throw new Error(`execution ${id} never got to: ${what}; it is ${JSON.stringify(last)}`)
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}
