/**
 * The UI's client of the HTTP API (SPEC §3, §4). Wire types are declared here rather than imported
 * from the server: the UI depends on the API's JSON, not on the server's code.
 */

export const EXECUTION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number]
export const isTerminal = (status: ExecutionStatus): boolean => status === 'completed' || status === 'failed' || status === 'cancelled'

export type TaskRunStatus = 'running' | 'success' | 'failure' | 'interrupted'

export interface TaskRunView {
  readonly task_name: string
  readonly task_type: string
  readonly status: TaskRunStatus
  readonly attempt: number
  readonly data: unknown
  readonly error: string | null
  readonly error_code: string | null
  readonly error_stack: string | null
  readonly started_at: string
  readonly finished_at: string | null
  readonly duration_ms: number | null
  readonly next_task: string | null
}

export interface ExecutionSummary {
  readonly execution_id: string
  readonly flow_id: string
  readonly flow_version: number | null
  readonly status: ExecutionStatus
  readonly input: unknown
  readonly current_task: string | null
  readonly failed_task: string | null
  readonly error: { readonly code: string; readonly message: string } | null
  readonly created_at: string
  readonly started_at: string | null
  readonly finished_at: string | null
  readonly duration_ms: number | null
}

export interface ExecutionView extends ExecutionSummary {
  readonly executed_tasks: readonly string[]
  readonly task_results: readonly TaskRunView[]
}

export interface FlowTask {
  readonly name: string
  readonly type?: string
  readonly description?: string
  readonly input?: Record<string, unknown>
}

export interface FlowCase {
  readonly when: string
  readonly target: string
}

/** By status (`outcome`), by a CEL expression (`when`), or multi-way (`cases` + `default`). */
export interface FlowCondition {
  readonly name: string
  readonly description?: string
  readonly source_task: string
  readonly outcome?: 'success' | 'failure'
  readonly when?: string
  readonly target_task_success?: string
  readonly target_task_failure?: string
  readonly cases?: readonly FlowCase[]
  readonly default?: string
}

export interface Flow {
  readonly id: string
  readonly name: string
  readonly description?: string
  readonly start_task: string
  readonly tasks: readonly FlowTask[]
  readonly conditions: readonly FlowCondition[]
  readonly max_steps?: number
}

export interface FlowSummary {
  readonly id: string
  readonly version: number
  readonly name: string
  readonly description: string | null
  readonly created_at: string
  readonly task_count: number
}

export interface FlowView extends Omit<FlowSummary, 'task_count'> {
  readonly flow: Flow
}

export interface Issue {
  readonly code: string
  readonly path: string
  readonly message: string
}

export interface ValidationResult {
  readonly valid: boolean
  readonly errors: readonly Issue[]
  readonly warnings: readonly Issue[]
}

export interface TaskTypeView {
  readonly name: string
  readonly description: string
  readonly input_schema: Record<string, unknown> | null
}

export interface Page<T> {
  readonly items: readonly T[]
  readonly next_cursor: string | null
}

/** An RFC 9457 problem answered by the API, thrown by `api`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: readonly Issue[] = [],
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

const KEY_STORAGE = 'flow-manager.api-key'

export function apiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE)
  } catch {
    return null
  }
}

export function setApiKey(key: string | null): void {
  try {
    if (key === null) sessionStorage.removeItem(KEY_STORAGE)
    else sessionStorage.setItem(KEY_STORAGE, key)
  } catch {
    // Storage is off (private mode); the key then lasts as long as the page.
  }
  memoryKey = key
}

let memoryKey: string | null = null
const currentKey = (): string | null => apiKey() ?? memoryKey

/** Set by the app: shows the key prompt and resolves once a key was entered. */
let askForKey: ((reason: string) => Promise<void>) | undefined
let asking: Promise<void> | undefined

export function onKeyNeeded(handler: (reason: string) => Promise<void>): void {
  askForKey = handler
}

/** Waits for the user to enter a key; concurrent 401s share one prompt. */
export function keyNeeded(reason: string): Promise<void> {
  if (askForKey === undefined) return Promise.reject(new ApiError(401, 'UNAUTHORIZED', reason))
  asking ??= askForKey(reason).finally(() => {
    asking = undefined
  })
  return asking
}

export function authHeaders(): Record<string, string> {
  const key = currentKey()
  return key === null ? {} : { authorization: `Bearer ${key}` }
}

interface ProblemBody {
  readonly code?: string
  readonly detail?: string
  readonly title?: string
  readonly errors?: readonly Issue[]
}

/** Calls the API; on 401 asks for a key and tries again. Problems are thrown as ApiError. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  for (;;) {
    // The header tells the server that these requests are the UI at work: it logs its reads at debug.
    const headers: Record<string, string> = { accept: 'application/json', 'x-flow-manager-client': 'ui', ...authHeaders() }
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    })
    if (response.status === 401) {
      const problem = (await response.json().catch(() => ({}))) as ProblemBody
      await keyNeeded(currentKey() === null ? 'This server needs an API key.' : (problem.detail ?? 'That API key was refused.'))
      continue
    }
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as ProblemBody
      throw new ApiError(response.status, problem.code ?? 'HTTP_' + String(response.status), problem.detail ?? problem.title ?? response.statusText, problem.errors ?? [])
    }
    return (await response.json()) as T
  }
}

export const executionPath = (id: string): string => `/api/v1/executions/${encodeURIComponent(id)}`
export const flowPath = (id: string, version?: number): string =>
  `/api/v1/flows/${encodeURIComponent(id)}${version === undefined ? '' : `?version=${version}`}`

export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value))
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

/** An execution input typed as JSON text; an empty text means `{}`. Throws a message for people. */
export function parseInputText(text: string): unknown {
  try {
    return JSON.parse(text === '' ? '{}' : text)
  } catch (e) {
    throw new Error(`The input is not JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** Starts a registered flow version without waiting for its end. */
export function startExecution(flowId: string, version: number, input: unknown): Promise<ExecutionView> {
  return api<ExecutionView>('/api/v1/executions', { method: 'POST', body: { flow_id: flowId, version, input, wait: false } })
}
