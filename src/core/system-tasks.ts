import { z } from 'zod'
import { MAX_NAME_LENGTH, MAX_TIMEOUT_MS } from './flow-schema.js'

/**
 * Task types whose meaning is part of the flow language: the engine carries them out itself
 * (parking the execution in the store), rather than calling code. Their input schemas are here,
 * so that validation, the task list and the core read the same rules.
 */
export const SYSTEM_TASK_TYPES = ['wait', 'wait_for_signal', 'subflow'] as const
export type SystemTaskType = (typeof SYSTEM_TASK_TYPES)[number]

export const isSystemTaskType = (type: string): type is SystemTaskType => (SYSTEM_TASK_TYPES as readonly string[]).includes(type)

/**
 * A signal name: it is a path segment of the signals route, so only characters a URL keeps as they
 * are, and never "." or "..", which clients and servers resolve away before the route sees them.
 */
export const SIGNAL_NAME = /^(?!\.\.?$)[A-Za-z0-9._~-]{1,200}$/
/** What a signal name may be, for messages. */
export const SIGNAL_NAME_RULE = 'a signal name is 1 to 200 letters, digits, ".", "_", "~" or "-", and not "." or ".." (it is a path segment of the signals route)'
/** Sub-flows nested deeper than this fail the task that would start one more. */
export const MAX_SUBFLOW_DEPTH = 10

export const WaitInput = z.union([
  z.strictObject({ ms: z.int().min(0).max(MAX_TIMEOUT_MS).describe('How long to wait, in ms.') }),
  z.strictObject({ until: z.iso.datetime({ offset: true }).describe('When to go on: an ISO 8601 time with a zone (`Z` or an offset). A time in the past goes on at once.') }),
])

export const WaitForSignalInput = z.strictObject({
  signal: z
    .string()
    .regex(SIGNAL_NAME, SIGNAL_NAME_RULE)
    .describe('The signal to wait for: POST /api/v1/executions/{id}/signals/{signal} delivers it.'),
  timeout_ms: z.int().min(1).max(MAX_TIMEOUT_MS).optional().describe('Fail with SIGNAL_TIMEOUT when no signal came within this many ms.'),
})

export const SubflowInput = z.strictObject({
  flow_id: z.string().min(1).max(MAX_NAME_LENGTH).describe('The registered flow to run as a child execution.'),
  version: z.int().min(1).optional().describe('Its version; default the latest.'),
  input: z.unknown().optional().describe("The child execution's input; default {}."),
})

export type WaitSpec = { readonly until: number } | { readonly ms: number }

/** The first problem of a zod parse, as `path: message`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  if (issue === undefined) return 'invalid input'
  const path = issue.path.length > 0 ? `/${issue.path.map(String).join('/')}` : '(input)'
  return `${path}: ${issue.message}`
}
