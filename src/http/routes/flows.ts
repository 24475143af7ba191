import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { FlowManagerError } from '../../core/errors.js'
import type { Engine } from '../../engine/engine.js'
import type { FlowRecord } from '../../store/store.js'
import {
  COMMON_PROBLEMS,
  FlowDocumentBody,
  FlowSummarySchema,
  FlowViewSchema,
  PagingQuery,
  ProblemSchema,
  ValidationResultSchema,
  pageOf,
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

/** Validating, registering and reading flow definitions. */
export function flowRoutes(app: FastifyInstance, deps: { engine: Engine }): void {
  const { engine } = deps
  const r = app.withTypeProvider<ZodTypeProvider>()

  r.post(
    '/api/v1/flows/validate',
    {
      schema: {
        tags: ['flows'],
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
    '/api/v1/flows',
    {
      schema: {
        tags: ['flows'],
        summary: 'Register a flow definition; registering an id again makes its next version',
        body: FlowDocumentBody,
        response: { 201: FlowViewSchema, 422: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request, reply) => {
      const record = await engine.registerFlow(request.body)
      request.log.info({ flowId: record.id, version: record.version }, 'flow registered')
      return reply.code(201).header('location', flowPath(record)).send(toFlowView(record))
    },
  )

  r.get(
    '/api/v1/flows',
    {
      schema: {
        tags: ['flows'],
        summary: 'Registered flows (latest version of each), by id',
        querystring: PagingQuery,
        response: { 200: pageOf(FlowSummarySchema), ...COMMON_PROBLEMS },
      },
    },
    async (request) => {
      const page = await engine.store.listFlows(request.query.limit, request.query.cursor)
      return { items: page.items.map(toFlowSummary), next_cursor: page.nextCursor }
    },
  )

  r.get(
    '/api/v1/flows/:id',
    {
      schema: {
        tags: ['flows'],
        summary: 'A registered flow: its latest version, or ?version=N',
        params: z.object({ id: z.string().min(1) }),
        querystring: z.strictObject({ version: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional() }),
        response: { 200: FlowViewSchema, 404: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request) => {
      const { id } = request.params
      const { version } = request.query
      const record = await engine.store.getFlow(id, version)
      if (record === undefined) {
        throw new FlowManagerError('FLOW_NOT_FOUND', `no flow "${id}"${version === undefined ? '' : ` version ${version}`} is registered`)
      }
      return toFlowView(record)
    },
  )
}
