import { z } from 'zod'
import { EXECUTION_STATUSES } from '../core/advance.js'
import { FlowSchema } from '../core/flow-schema.js'

/**
 * Wire shapes of the canonical API. Request schemas validate; response schemas document (the
 * OpenAPI document is generated from them) while responses are serialized with plain
 * JSON.stringify, since they are built by our own typed view functions.
 *
 * Shapes used in several places carry an `id`: the OpenAPI document holds them once, as
 * components/schemas/<id>, and the UI's types are generated from those (see `component`).
 */

/** The prefix of a reference to a component of the OpenAPI document. */
export const COMPONENTS = '#/components/schemas/'

/** A copy of `schema` that the OpenAPI document shows once, as components/schemas/<id>. */
export const component = <T extends z.ZodType>(schema: T, id: string): T => schema.meta({ id })

/** The sample flow of the README's quickstart (examples/seed-flow.json): the example throughout the OpenAPI document. */
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

export const IssueSchema = component(
  z
    .object({
      code: z.string().describe('A stable code, e.g. UNKNOWN_KEY.'),
      path: z.string().describe('A JSON pointer to the offending value, e.g. /flow/conditions/1/target_task_success.'),
      message: z.string().describe('What is wrong and how to fix it.'),
    })
    .describe('One problem found in a flow or a request.'),
  'Issue',
)

export const ProblemSchema = component(
  z
    .object({
      type: z.string().describe('urn:flow-manager:problem:<code in kebab case>'),
      title: z.string(),
      status: z.int(),
      detail: z.string().describe('What went wrong, for people.'),
      code: z.string().describe('A stable error code, e.g. FLOW_INVALID; the README lists them.'),
      errors: z.array(IssueSchema).optional().describe('Every issue, for an invalid flow or request.'),
    })
    .describe('An RFC 9457 problem (application/problem+json).'),
  'Problem',
)

/** A flow definition: the same schema as schema/flow.schema.json, generated from the zod schema the engine validates with. */
export const FlowComponent = component(FlowSchema, 'Flow')

export const FlowDocumentComponent = component(
  z.union([z.strictObject({ flow: FlowComponent }), FlowComponent]).describe('A flow, bare or in a {"flow": …} envelope (the README\'s flow reference).'),
  'FlowDocument',
)

/**
 * A body that is a flow document. It is validated by the engine, not by the route, so that every
 * issue is reported at once with its path (422 FLOW_INVALID); the OpenAPI document describes it
 * as a FlowDocument.
 */
export const flowDocumentBody = (description: string): z.ZodUnknown =>
  // allOf, because the OpenAPI plugin drops whatever stands beside a bare $ref (the description, the examples).
  z.unknown().meta({ allOf: [{ $ref: `${COMPONENTS}FlowDocument` }], description })

export const FlowDocumentBody = flowDocumentBody('A flow, bare or in a {"flow": …} envelope.').meta({ examples: [{ flow: SEED_FLOW }] })

export const ValidationResultSchema = component(
  z.object({
    valid: z.boolean(),
    errors: z.array(IssueSchema).readonly().describe('Problems that stop the flow; empty when valid.'),
    warnings: z.array(IssueSchema).readonly().describe('Problems that do not stop it, e.g. UNREACHABLE_TASK.'),
  }),
  'ValidationResult',
)

const FlowVersionFields = z.object({
  id: z.string(),
  version: z.int().describe('1 for the first registration of the id, then 2, 3…'),
  name: z.string(),
  description: z.string().nullable(),
  created_at: z.string().describe('When this version was registered (ISO 8601, UTC).'),
})

export const FlowViewSchema = component(FlowVersionFields.extend({ flow: FlowComponent }).describe('One version of a registered flow.'), 'FlowVersion')

export const FlowSummarySchema = component(FlowVersionFields.extend({ task_count: z.int() }).describe('The latest version of a registered flow, without its definition.'), 'FlowSummary')

const ExecutionErrorSchema = z.object({ code: z.string(), message: z.string() }).nullable()

const WaitingForSchema = z
  .union([z.object({ timer: z.string() }), z.object({ signal: z.string(), timeout_at: z.string().optional() }), z.object({ child: z.string() })])
  .nullable()
  .describe('What a parked run waits for: a timer (ISO time), a signal (and when it times out), or a sub-flow\'s child execution.')

const TaskRunFields = z.object({
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

export const TaskRunViewSchema = component(TaskRunFields.describe('One attempt of one task of an execution.'), 'TaskRun')

const ExecutionFields = z.object({
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

export const ExecutionSummarySchema = component(ExecutionFields.describe('An execution in a list: everything but its task runs.'), 'ExecutionSummary')

export const ExecutionViewSchema = component(
  ExecutionFields.extend({
    executed_tasks: z.array(z.string()).readonly().describe('Task names in the order they ran, one per task run.'),
    task_results: z.array(TaskRunViewSchema).readonly().describe('The latest 1,000 task runs at most, within 8 MiB of data.'),
    task_run_count: z.int().describe('All task runs of the execution; page through them with GET /api/v1/executions/{id}/task-runs.'),
  }).describe('An execution: the same representation as `flow-manager run --json` (see the README\'s HTTP API section).'),
  'Execution',
)

/** A page of `item`s, as components/schemas/<id>. */
export const pageOf = <T extends z.ZodType>(item: T, id: string): z.ZodObject<{ items: z.ZodArray<T>; next_cursor: z.ZodNullable<z.ZodString> }> =>
  component(z.object({ items: z.array(item), next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last.') }), id)

export const FlowSummaryPageSchema = pageOf(FlowSummarySchema, 'FlowSummaryPage')
export const ExecutionSummaryPageSchema = pageOf(ExecutionSummarySchema, 'ExecutionSummaryPage')

export const PagingQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Items per page, 1 to 500; default 50.'),
  cursor: z.string().min(1).max(1000).optional().describe('The next_cursor of the previous page.'),
})

/** Problems every API route can answer; merged into each route's response map. */
export const COMMON_PROBLEMS = {
  400: ProblemSchema,
  401: ProblemSchema,
} as const
