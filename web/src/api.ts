import { reachingFetch } from './connection.js'
import type { components, operations } from './generated/api.js'

/**
 * The UI's client of the HTTP API (docs/api.md). The wire types come from the server's own
 * OpenAPI document: `npm run api-types` generates ./generated/api.ts from /openapi.json with
 * openapi-typescript, so a change of the API that the UI does not follow fails the typecheck.
 */

type Schemas = components['schemas']
/** The JSON body a request of `operation` sends. */
export type RequestBody<Operation extends keyof operations> = operations[Operation] extends { readonly requestBody?: { readonly content: { readonly 'application/json': infer Body } } } ? Body : never

export const EXECUTION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const satisfies readonly Schemas['Execution']['status'][]
export type ExecutionStatus = Schemas['Execution']['status']
export const isTerminal = (status: ExecutionStatus): boolean => status === 'completed' || status === 'failed' || status === 'cancelled'

export type TaskRunView = Schemas['TaskRun']
export type TaskRunStatus = TaskRunView['status']
/** What a parked run waits for: `{timer}`, `{signal, timeout_at?}` or `{child}` (a sub-flow's execution). */
export type WaitingFor = NonNullable<TaskRunView['waiting_for']>
export type TaskRunPage = Schemas['TaskRunPage'] & Page<TaskRunView>
export type ExecutionSummary = Schemas['ExecutionSummary']
export type ExecutionView = Schemas['Execution']

export type Flow = Schemas['Flow']
export type FlowTask = Flow['tasks'][number]
/** By status (`outcome`), by a CEL expression (`when`), or multi-way (`cases` + `default`). */
export type FlowCondition = Flow['conditions'][number]
export type FlowCase = NonNullable<FlowCondition['cases']>[number]

export type FlowSummary = Schemas['FlowSummary']
export type FlowView = Schemas['FlowVersion']
export type Issue = Schemas['Issue']
export type ValidationResult = Schemas['ValidationResult']
export type TaskTypeView = Schemas['TaskType']
export type Simulation = Schemas['Simulation']
/** GET /api/v1/executions/{id}/flow */
export type ExecutionFlow = operations['getExecutionFlow']['responses'][200]['content']['application/json']

export interface Page<T> {
  readonly items: readonly T[]
  readonly next_cursor: string | null
}
// The generic page above is the shape of every page the API answers.
export type FlowSummaryPage = Schemas['FlowSummaryPage'] & Page<FlowSummary>
export type ExecutionSummaryPage = Schemas['ExecutionSummaryPage'] & Page<ExecutionSummary>

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

type ProblemBody = Partial<Schemas['Problem']>

/** Calls the API; on 401 asks for a key and tries again. Problems are thrown as ApiError. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  for (;;) {
    // The header tells the server that these requests are the UI at work: it logs its reads at debug.
    const headers: Record<string, string> = { accept: 'application/json', 'x-flow-manager-client': 'ui', ...authHeaders() }
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    const method = init.method ?? 'GET'
    // Reads wait for an unreachable server to come back; writes fail at once (see connection.ts).
    const response = await reachingFetch(
      path,
      {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        ...(init.signal === undefined ? {} : { signal: init.signal }),
      },
      { retry: method === 'GET' },
    )
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
  const body: RequestBody<'startExecution'> = { flow_id: flowId, version, input, wait: false }
  return api<ExecutionView>('/api/v1/executions', { method: 'POST', body })
}
