import { pino } from 'pino'
import { createEngine } from '../../src/engine/engine.js'
import { startServer } from '../../src/http/server.js'
import { openStore } from '../../src/store/open-store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'

/** Parsed JSON, as a Python client's `response.json()` gives it. */
type Json = ReturnType<typeof JSON.parse>

export interface Answer {
  readonly status: number
  readonly contentType: string
  readonly body: Json
}

export interface CompatServer {
  readonly url: string
  /** One request as the original clients send it: a JSON body (or raw text), and headers. */
  call(method: 'GET' | 'POST', path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>
  close(): Promise<void>
}

/**
 * A real `flow-manager` HTTP server on a loopback port, on a fresh in-memory SQLite database with
 * the built-in task types: what a client of an original service talks to after switching.
 */
export async function startCompatServer(options: { apiKeys?: readonly string[] } = {}): Promise<CompatServer> {
  const store = await openStore('sqlite::memory:')
  const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
  const server = await startServer({ engine, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), app: { apiKeys: options.apiKeys ?? [] }, graceMs: 0 })
  return {
    url: server.url,
    async call(method, path, body, headers = {}) {
      const raw = typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body)
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { ...(raw === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(raw === undefined ? {} : { body: raw }),
      })
      const text = await response.text()
      const contentType = response.headers.get('content-type') ?? ''
      return { status: response.status, contentType, body: /json/.test(contentType) ? JSON.parse(text) : text }
    },
    async close() {
      await server.close()
      await store.close()
    },
  }
}

/** The seed flow as the originals' READMEs and sample files spell it, in the `{"flow": …}` envelope. */
export const SAMPLE_FLOW = {
  flow: {
    id: 'flow123',
    name: 'Data processing flow',
    start_task: 'task1',
    tasks: [
      { name: 'task1', description: 'Fetch data' },
      { name: 'task2', description: 'Process data' },
      { name: 'task3', description: 'Store data' },
    ],
    conditions: [
      {
        name: 'condition_task1_result',
        description: 'Evaluate the result of task1. If successful, proceed to task2; otherwise, end the flow.',
        source_task: 'task1',
        outcome: 'success',
        target_task_success: 'task2',
        target_task_failure: 'end',
      },
      {
        name: 'condition_task2_result',
        description: 'Evaluate the result of task2. If successful, proceed to task3; otherwise, end the flow.',
        source_task: 'task2',
        outcome: 'success',
        target_task_success: 'task3',
        target_task_failure: 'end',
      },
    ],
  },
}

/** An ISO 8601 UTC timestamp, as every answer carries. */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
