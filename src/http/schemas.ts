import { z } from 'zod'
import { EXECUTION_STATUSES } from '../core/advance.js'
import { FlowSchema } from '../core/flow-schema.js'

/**
 * Wire shapes of the canonical API. Request schemas validate; response schemas document (the
 * OpenAPI document is generated from them) while responses are serialized with plain
 * JSON.stringify, since they are built by our own typed view functions.
 */

/** The seed flow of SPEC §1: the example throughout the OpenAPI document. */
export const SEED_FLOW = {
  id: 'flow123',
  name: 'Data processing flow',
  start_task: 'task1',
  tasks: [
    { name: 'task1', description: 'Fetch data' },
    { name: 'task2', description: 'Process data' },
    { name: 'task3', description: 'Store data' },
  ],
  conditions: [
    { name: 'condition_task1_result', description: 'Evaluate the result of task1', source_task: 'task1', outcome: 'success', target_task_success: 'task2', target_task_failure: 'end' },
    { name: 'condition_task2_result', description: 'Evaluate the result of task2', source_task: 'task2', outcome: 'success', target_task_success: 'task3', target_task_failure: 'end' },
  ],
} as const

export const IssueSchema = z.object({
  code: z.string().describe('A stable code, e.g. UNKNOWN_KEY.'),
  path: z.string().describe('A JSON pointer to the offending value, e.g. /flow/conditions/1/target_task_success.'),
  message: z.string(),
})

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string().describe('A stable error code, e.g. FLOW_INVALID.'),
    errors: z.array(IssueSchema).optional(),
  })
  .describe('An RFC 9457 problem (application/problem+json).')

/** Any JSON document the flow parser judges: validated by the engine, so that every issue is reported at once. */
export const FlowDocumentBody = z
  .unknown()
  .describe('A flow, bare or in a {"flow": …} envelope (SPEC §1).')
  .meta({ examples: [{ flow: SEED_FLOW }] })

export const ValidationResultSchema = z.object({
  valid: z.boolean(),
  errors: z.array(IssueSchema).readonly(),
  warnings: z.array(IssueSchema).readonly(),
})

export const FlowViewSchema = z.object({
  id: z.string(),
  version: z.int(),
  name: z.string(),
  description: z.string().nullable(),
  created_at: z.string(),
  flow: FlowSchema,
})

export const FlowSummarySchema = FlowViewSchema.omit({ flow: true }).extend({ task_count: z.int() })

const ExecutionErrorSchema = z.object({ code: z.string(), message: z.string() }).nullable()

const WaitingForSchema = z
  .union([z.object({ timer: z.string() }), z.object({ signal: z.string(), timeout_at: z.string().optional() }), z.object({ child: z.string() })])
  .nullable()
  .describe('What a parked run waits for: a timer (ISO time), a signal (and when it times out), or a sub-flow\'s child execution.')

export const TaskRunViewSchema = z.object({
  seq: z.int().describe('The run\'s position in the execution; GET /api/v1/executions/{id}/task-runs/{seq} reads it whole.'),
  task_name: z.string(),
  task_type: z.string(),
  status: z.enum(['running', 'waiting', 'success', 'failure', 'interrupted']),
  attempt: z.int(),
  data: z.unknown(),
  data_omitted: z.literal(true).optional().describe('The data was left out to keep the answer within 8 MiB; read the run alone.'),
  error: z.string().nullable(),
  error_code: z.string().nullable(),
  error_stack: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  next_task: z.string().nullable(),
  parent_seq: z.int().nullable().describe('The run of the parallel group or for_each task this run belongs to.'),
  branch: z.string().nullable().describe('The first task of the branch this run belongs to.'),
  item_index: z.int().nullable().describe('For an item run of a for_each task: its item\'s index.'),
  waiting_for: WaitingForSchema,
  retry_at: z.string().nullable().describe('When this failed attempt will be tried again.'),
})

export const ExecutionSummarySchema = z.object({
  execution_id: z.string(),
  flow_id: z.string(),
  flow_version: z.int().nullable(),
  status: z.enum(EXECUTION_STATUSES),
  input: z.unknown(),
  current_task: z.string().nullable(),
  failed_task: z.string().nullable(),
  error: ExecutionErrorSchema,
  parent_execution_id: z.string().nullable().describe('For a sub-flow\'s execution: the execution that started it.'),
  parent_task: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
})

export const ExecutionViewSchema = ExecutionSummarySchema.extend({
  executed_tasks: z.array(z.string()).readonly(),
  task_results: z.array(TaskRunViewSchema).readonly().describe('The latest 1,000 task runs at most, within 8 MiB of data.'),
  task_run_count: z.int().describe('All task runs of the execution; page through them with GET /api/v1/executions/{id}/task-runs.'),
}).describe('An execution.')

export const pageOf = <T extends z.ZodType>(item: T): z.ZodObject<{ items: z.ZodArray<T>; next_cursor: z.ZodNullable<z.ZodString> }> =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last.') })

export const PagingQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Items per page, 1 to 500; default 50.'),
  cursor: z.string().min(1).max(1000).optional().describe('The next_cursor of the previous page.'),
})

/** Problems every API route can answer; merged into each route's response map. */
export const COMMON_PROBLEMS = {
  400: ProblemSchema,
  401: ProblemSchema,
} as const
