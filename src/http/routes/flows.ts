import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { EXECUTION_STATUSES } from '../../core/advance.js'
import { FlowManagerError } from '../../core/errors.js'
import { OUTCOMES } from '../../core/flow-schema.js'
import { compileFlow } from '../../core/plan.js'
import { simulate } from '../../core/simulate.js'
import type { Engine } from '../../engine/engine.js'
import type { FlowRecord } from '../../store/store.js'
import type { FlowSummarySchema } from '../schemas.js'
import { checkDataSize } from '../edge-checks.js'
import {
  COMMON_PROBLEMS,
  FlowDocumentBody,
  FlowSummaryPageSchema,
  FlowViewSchema,
  PagingQuery,
  ProblemSchema,
  SEED_FLOW,
  ValidationResultSchema,
  component,
  flowDocumentBody,
} from '../schemas.js'

export function toFlowSummary(record: FlowRecord): z.output<typeof FlowSummarySchema> {
  return {
    id: record.id,
    version: record.version,
    name: record.flow.name,
    description: record.flow.description ?? null,
    created_at: new Date(record.createdAt).toISOString(),
    task_count: record.flow.tasks.length,
  }
}

export function toFlowView(record: FlowRecord): z.output<typeof FlowViewSchema> {
  const { task_count: _count, ...summary } = toFlowSummary(record)
  return { ...summary, flow: record.flow }
}

export const flowPath = (record: FlowRecord): string => `/api/v1/flows/${encodeURIComponent(record.id)}?version=${record.version}`

const SimulateBody = z
  .strictObject({
    flow: flowDocumentBody('The flow to walk, bare or in a {"flow": …} envelope.'),
    input: z.unknown().optional().describe('The execution input expressions see; default {}.'),
    outcomes: z.record(z.string(), z.enum(OUTCOMES)).optional().describe('How each task ends; tasks not named succeed.'),
    data: z.record(z.string(), z.unknown()).optional().describe('Result data per task, for conditions and input mappings that read it.'),
  })
  .meta({ examples: [{ flow: { flow: SEED_FLOW }, outcomes: { task2: 'failure' } }] })

const SimulationSchema = component(
  z.object({
    path: z.array(z.string()).readonly().describe('Task runs in order, one per attempt.'),
    status: z.enum(EXECUTION_STATUSES),
    steps: z.int(),
    failed_task: z.string().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  }),
  'Simulation',
)

/** Validating, registering and reading flow definitions. */
export function flowRoutes(app: FastifyInstance, deps: { engine: Engine; dataLimit: number }): void {
  const { engine } = deps
  const r = app.withTypeProvider<ZodTypeProvider>()

  r.post(
    '/api/v1/flows/validate',
    {
      schema: {
        tags: ['flows'],
        operationId: 'validateFlow',
        summary: 'Validate a flow: every problem at once; 200 whether valid or not',
        body: FlowDocumentBody,
        response: { 200: ValidationResultSchema, ...COMMON_PROBLEMS },
      },
    },
    (request) => {
      const result = engine.validate(request.body)
      return { valid: result.ok, errors: result.ok ? [] : result.errors, warnings: result.warnings }
    },
  )

  r.post(
    '/api/v1/flows/simulate',
    {
      schema: {
        tags: ['flows'],
        operationId: 'simulateFlow',
        summary: 'Walk a flow with given task outcomes and data, without running any task',
        body: SimulateBody,
        response: { 200: SimulationSchema, 413: ProblemSchema, 422: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    (request) => {
      const { flow: document, input, outcomes = {}, data = {} } = request.body
      checkDataSize(input, deps.dataLimit, 'the execution input')
      for (const [task, value] of Object.entries(data)) checkDataSize(value, deps.dataLimit, `the data of task "${task}"`)
      const parsed = engine.validate(document)
      if (!parsed.ok) {
        const first = parsed.errors[0]
        throw new FlowManagerError('FLOW_INVALID', `the flow is invalid: ${first?.path ?? ''} ${first?.message ?? ''}`.trim(), { issues: parsed.errors })
      }
      const names = new Set(parsed.flow.tasks.map((t) => t.name))
      for (const [field, map] of [['outcomes', outcomes], ['data', data]] as const) {
        const unknown = Object.keys(map).filter((name) => !names.has(name))
        if (unknown.length > 0) {
          throw new FlowManagerError('INPUT_INVALID', `${field} names ${unknown.map((n) => `"${n}"`).join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not a task of the flow`)
        }
      }
      const result = simulate(compileFlow(parsed.flow), { input: input ?? {}, outcomes, data })
      return { path: result.path, status: result.status, steps: result.steps, failed_task: result.failedTask, error: result.error }
    },
  )

  r.post(
    '/api/v1/flows',
    {
      schema: {
        tags: ['flows'],
        operationId: 'registerFlow',
        summary: 'Register a flow definition: 201 with a new version, or 200 with the latest one when the definition is unchanged',
        description:
          'Registering an id again makes its next version, unless the definition equals the latest version\'s: then nothing is added and that version is answered with 200 (registering is idempotent). Location names the version either way.',
        body: FlowDocumentBody,
        response: { 201: FlowViewSchema.describe('A new version was registered.'), 200: FlowViewSchema.describe('The definition equals the latest version, which is answered; nothing was added.'), 422: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request, reply) => {
      const record = await engine.registerFlow(request.body)
      request.log.info({ flowId: record.id, version: record.version }, record.created ? 'flow registered' : 'flow unchanged: its latest version is answered')
      return reply.code(record.created ? 201 : 200).header('location', flowPath(record)).send(toFlowView(record))
    },
  )

  r.get(
    '/api/v1/flows',
    {
      schema: {
        tags: ['flows'],
        operationId: 'listFlows',
        summary: 'Registered flows (latest version of each), by id',
        querystring: PagingQuery,
        response: { 200: FlowSummaryPageSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request) => {
      const page = await engine.reads.flows(request.query.limit, request.query.cursor)
      return { items: page.items.map(toFlowSummary), next_cursor: page.nextCursor }
    },
  )

  r.get(
    '/api/v1/flows/:id',
    {
      schema: {
        tags: ['flows'],
        operationId: 'getFlow',
        summary: 'A registered flow: its latest version, or ?version=N',
        params: z.object({ id: z.string().min(1) }),
        querystring: z.strictObject({ version: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional() }),
        response: { 200: FlowViewSchema, 404: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request) => {
      const { id } = request.params
      const { version } = request.query
      const record = await engine.reads.flow(id, version)
      if (record === undefined) {
        throw new FlowManagerError('FLOW_NOT_FOUND', `no flow "${id}"${version === undefined ? '' : ` version ${version}`} is registered`)
      }
      return toFlowView(record)
    },
  )
}
