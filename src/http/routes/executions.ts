import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { EXECUTION_STATUSES, TERMINAL_STATUSES } from '../../core/execution-state.js'
import { FlowManagerError } from '../../core/errors.js'
import type { Engine, FlowSource, Started } from '../../engine/engine.js'
import { toExecutionSummary, toExecutionView } from '../../engine/execution-view.js'
import type { ExecutionDetail } from '../../store/store.js'
import { taskRunRoutes } from './task-runs.js'
import { checkDataSize } from '../edge-checks.js'
import { HttpProblemError } from '../problem.js'
import { COMMON_PROBLEMS, ExecutionSummaryPageSchema, ExecutionViewSchema, FlowComponent, PagingQuery, ProblemSchema, SEED_FLOW, flowDocumentBody } from '../schemas.js'

/** Longest a request may ask to wait for its execution: ten minutes. */
export const MAX_WAIT_MS = 600_000

const WaitFields = {
  wait: z.boolean().default(true).describe('Wait for the execution to end (default). false answers 202 at once.'),
  wait_ms: z.int().min(0).max(MAX_WAIT_MS).optional().describe('How long to wait before answering 202 with the execution so far; default 30000.'),
}

const StartBody = z
  .strictObject({
    flow_id: z.string().min(1).max(200).optional().describe('A registered flow to run.'),
    version: z.int().min(1).optional().describe('The version of flow_id to run; default the latest.'),
    flow: flowDocumentBody('An inline flow to run, bare or in a {"flow": …} envelope.').optional(),
    input: z.unknown().optional().describe('The execution input; any JSON value, default {}.'),
    ...WaitFields,
  })
  .superRefine((body, ctx) => {
    const inline = body.flow !== undefined
    if (inline === (body.flow_id !== undefined)) {
      ctx.addIssue({ code: 'custom', path: inline ? ['flow_id'] : [], message: 'send exactly one of "flow_id" (a registered flow) and "flow" (an inline flow)' })
    }
    if (body.version !== undefined && body.flow_id === undefined) {
      ctx.addIssue({ code: 'custom', path: ['version'], message: '"version" applies to "flow_id" only' })
    }
  })
  .meta({ examples: [{ flow: SEED_FLOW, input: {} }, { flow_id: 'flow123', input: { fail: ['task2'] }, wait_ms: 5000 }] })

const IdParams = z.object({ id: z.string().min(1).max(200) })

const Time = z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date and time with a zone, e.g. 2026-01-31T09:00:00Z' })
const ListQuery = PagingQuery.extend({
  status: z.enum(EXECUTION_STATUSES).optional().describe('Executions in this status.'),
  flow_id: z.string().min(1).max(200).optional().describe('Executions of this flow id (inline flows: the id in their definition).'),
  id_prefix: z.string().min(1).max(200).optional().describe('Executions whose id starts with this text (case-sensitive).'),
  created_after: Time.optional().describe('Executions created at or after this time (ISO 8601).'),
  created_before: Time.optional().describe('Executions created before this time (ISO 8601).'),
  parent_execution_id: z.string().min(1).max(200).optional().describe("A sub-flow's parent: the child executions it started."),
}).refine((q) => q.created_after === undefined || q.created_before === undefined || Date.parse(q.created_after) < Date.parse(q.created_before), {
  path: ['created_before'],
  message: 'created_before must be later than created_after; the range is empty',
})
const ExecutionResponses = { 200: ExecutionViewSchema, 202: ExecutionViewSchema, 404: ProblemSchema, 409: ProblemSchema, ...COMMON_PROBLEMS }

export interface ExecutionRouteDeps {
  readonly engine: Engine
  /** Default of `wait_ms`. */
  readonly defaultWaitMs: number
  /** Largest execution input in bytes of JSON. */
  readonly dataLimit: number
}

export const executionPath = (id: string): string => `/api/v1/executions/${encodeURIComponent(id)}`

const isTerminal = (detail: ExecutionDetail): boolean => TERMINAL_STATUSES.includes(detail.execution.status)

/** Waits for the end up to `ms`; undefined when time ran out first. */
async function waitForEnd(done: Promise<ExecutionDetail>, ms: number): Promise<ExecutionDetail | undefined> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined)
  })
  try {
    return await Promise.race([done, expired])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * 200 with the finished execution, or 202 with the execution so far and where to look next. Once
 * an execution is recorded the answer is never an error: should reading it back fail, it is a 202
 * with its id and Location, so that a client retrying without an idempotency key does not start it twice.
 */
export async function answerStarted(engine: Engine, started: Started, wait: { wait: boolean; waitMs: number }, reply: FastifyReply): Promise<FastifyReply> {
  const id = started.executionId
  const accepted = (view: unknown): FastifyReply => reply.code(202).header('location', executionPath(id)).send(view)
  try {
    const ended = wait.wait ? await waitForEnd(started.done, wait.waitMs) : undefined
    if (ended !== undefined && isTerminal(ended)) return sendExecution(reply.code(200), ended)
    const current = ended ?? (await engine.reads.execution(id))
    return accepted(current === undefined ? { execution_id: id } : toExecutionView(current))
  } catch (error) {
    reply.log.warn({ err: error, executionId: id }, 'the execution is recorded but could not be read back; answered 202')
    return accepted({ execution_id: id })
  }
}

/** The Idempotency-Key header, checked: one value of printable ASCII, at most 255 characters. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key']
  if (raw === undefined) return undefined
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 255 || !/^[\x20-\x7e]+$/.test(raw)) {
    throw new HttpProblemError('REQUEST_INVALID', 'the Idempotency-Key header must be one value of 1 to 255 printable ASCII characters')
  }
  return raw
}

/** Issues of an inline flow point into the request body, where the flow sits under "flow". */
function underFlow(error: unknown): unknown {
  if (!(error instanceof FlowManagerError) || error.code !== 'FLOW_INVALID') return error
  const issues = error.issues.map((issue) => ({ ...issue, path: `/flow${issue.path}` }))
  return new FlowManagerError('FLOW_INVALID', error.message, { issues, cause: error })
}

/** Puts the execution id on every later log line of the request, "request completed" included. */
function bindExecution(request: FastifyRequest, reply: FastifyReply, executionId: string): void {
  request.log = request.log.child({ executionId })
  reply.log = request.log
}

/**
 * An execution's JSON, worked out once per read: the store answers a finished execution from memory
 * with the same object each time, so polling clients cost neither a view nor a serialization.
 */
const viewJson = new WeakMap<ExecutionDetail, string>()
function sendExecution(reply: FastifyReply, detail: ExecutionDetail): FastifyReply {
  let json = viewJson.get(detail)
  if (json === undefined) {
    json = JSON.stringify(toExecutionView(detail))
    viewJson.set(detail, json)
  }
  return reply.type('application/json; charset=utf-8').send(json)
}

async function loadExecution(engine: Engine, id: string): Promise<ExecutionDetail> {
  const detail = await engine.reads.execution(id)
  if (detail === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${id}"`)
  return detail
}

/** Starting, listing, reading, cancelling and resuming executions. */
export function executionRoutes(app: FastifyInstance, deps: ExecutionRouteDeps): void {
  const { engine } = deps
  const r = app.withTypeProvider<ZodTypeProvider>()

  r.post(
    '/api/v1/executions',
    {
      schema: {
        tags: ['executions'],
        operationId: 'startExecution',
        summary: 'Run a registered or an inline flow; waits for the end by default',
        description: 'Answers 200 with the finished execution, or 202 with a Location header when it is not finished within wait_ms or wait is false. An Idempotency-Key header makes a repeated request return the same execution.',
        body: StartBody,
        response: { ...ExecutionResponses, 413: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (request, reply) => {
      const body = request.body
      checkDataSize(body.input, deps.dataLimit, 'the execution input')
      const source: FlowSource = body.flow !== undefined ? { flow: body.flow } : { flowId: body.flow_id ?? '', ...(body.version === undefined ? {} : { version: body.version }) }
      const idempotencyKey = idempotencyKeyOf(request)
      const started = await engine
        .start(source, { ...(body.input === undefined ? {} : { input: body.input }), ...(idempotencyKey === undefined ? {} : { idempotencyKey }) })
        .catch((error: unknown) => {
          throw underFlow(error)
        })
      bindExecution(request, reply, started.executionId)
      request.log.info({ created: started.created }, started.created ? 'execution started' : 'execution found by idempotency key')
      return answerStarted(engine, started, { wait: body.wait, waitMs: body.wait_ms ?? deps.defaultWaitMs }, reply)
    },
  )

  r.get(
    '/api/v1/executions',
    {
      schema: {
        tags: ['executions'],
        operationId: 'listExecutions',
        summary: 'Executions, newest first; filters status, flow_id, id_prefix, parent_execution_id and a creation time range',
        querystring: ListQuery,
        response: { 200: ExecutionSummaryPageSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request) => {
      const { limit, cursor, status, flow_id, id_prefix, created_after, created_before, parent_execution_id } = request.query
      const page = await engine.reads.list({
        limit,
        ...(cursor === undefined ? {} : { cursor }),
        ...(status === undefined ? {} : { status }),
        ...(flow_id === undefined ? {} : { flowId: flow_id }),
        ...(parent_execution_id === undefined ? {} : { parentExecutionId: parent_execution_id }),
        ...(id_prefix === undefined ? {} : { idPrefix: id_prefix }),
        ...(created_after === undefined ? {} : { createdAfter: Date.parse(created_after) }),
        ...(created_before === undefined ? {} : { createdBefore: Date.parse(created_before) }),
      })
      return { items: page.items.map(toExecutionSummary), next_cursor: page.nextCursor }
    },
  )

  r.get(
    '/api/v1/executions/:id',
    {
      schema: {
        tags: ['executions'],
        operationId: 'getExecution',
        summary: 'One execution, with its latest 1,000 task runs and up to 8 MiB of their data',
        params: IdParams,
        response: { 200: ExecutionViewSchema, 404: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request, reply) => sendExecution(reply, await loadExecution(engine, request.params.id)),
  )

  r.get(
    '/api/v1/executions/:id/flow',
    {
      schema: {
        tags: ['executions'],
        operationId: 'getExecutionFlow',
        summary: 'The flow definition an execution runs, exactly as it started (inline flows included)',
        params: IdParams,
        response: {
          200: z.object({ flow_id: z.string(), flow_version: z.int().nullable().describe('null for an inline flow'), flow: FlowComponent }),
          404: ProblemSchema,
          ...COMMON_PROBLEMS,
        },
      },
    },
    async (request) => {
      const { execution } = await loadExecution(engine, request.params.id)
      const flow = await engine.reads.definition(execution)
      if (flow === undefined) throw new FlowManagerError('FLOW_NOT_FOUND', `the definition of execution "${execution.id}" is missing`)
      return { flow_id: execution.flowId, flow_version: execution.flowVersion, flow }
    },
  )

  r.post(
    '/api/v1/executions/:id/cancel',
    {
      schema: {
        tags: ['executions'],
        operationId: 'cancelExecution',
        summary: 'Cancel a pending or running execution; 409 when it has already ended',
        params: IdParams,
        body: z.strictObject({ reason: z.string().min(1).max(1000).optional() }).nullish(),
        response: ExecutionResponses,
      },
    },
    async (request, reply) => {
      bindExecution(request, reply, request.params.id)
      const reason = request.body?.reason
      const detail = await engine.cancel(request.params.id, reason)
      // Held by another node that has not acted on it yet: the cancellation is requested, and recorded.
      if (!isTerminal(detail)) return reply.code(202).header('location', executionPath(request.params.id)).send(toExecutionView(detail))
      return reply.code(200).send(toExecutionView(detail))
    },
  )

  r.post(
    '/api/v1/executions/:id/resume',
    {
      schema: {
        tags: ['executions'],
        operationId: 'resumeExecution',
        summary: 'Run a failed execution again from its failed task; 409 when it did not fail',
        description: 'An optional input replaces the execution input from the resumed task on. Waits like POST /api/v1/executions.',
        params: IdParams,
        body: z.strictObject({ input: z.unknown().optional(), ...WaitFields }).nullish(),
        response: { ...ExecutionResponses, 413: ProblemSchema },
      },
    },
    async (request, reply) => {
      bindExecution(request, reply, request.params.id)
      const { input, wait, wait_ms } = request.body ?? { wait: true }
      checkDataSize(input, deps.dataLimit, 'the new execution input')
      const started = await engine.resume(request.params.id, input === undefined ? {} : { input })
      request.log.info('execution resumed')
      return answerStarted(engine, started, { wait, waitMs: wait_ms ?? deps.defaultWaitMs }, reply)
    },
  )

  taskRunRoutes(app, engine)
}
