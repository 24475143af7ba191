import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { FlowManagerError } from '../../core/errors.js'
import type { Engine, FlowSource } from '../../engine/engine.js'
import type { ExecutionDetail } from '../../store/store.js'
import { checkDataSize } from '../edge-checks.js'
import { HttpProblemError } from '../problem.js'
import { apiV1ExecuteAnswer, executionState, flowExecuteAnswer, flowRunAnswer, flowsExecuteAnswer, runFlowAnswer } from './seed-compat-shapes.js'

/**
 * Routes for clients written against the original Python services (SPEC §4, Appendix A). They
 * accept those request shapes, run through the same engine, and answer in the old shapes; errors
 * are problems, whose `detail` is what those clients read.
 */

export interface SeedCompatDeps {
  readonly engine: Engine
  /** How long a run waits for its end before answering with the execution so far. */
  readonly defaultWaitMs: number
  /** Largest execution input in bytes of JSON. */
  readonly dataLimit: number
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The flow document in any of the accepted shapes: bare, `{flow}`, or `{flow_data: {flow}}`. */
export function flowDocumentOf(body: unknown): unknown {
  if (!isObject(body)) return body
  if (Object.hasOwn(body, 'flow_data')) return body.flow_data
  if (Object.hasOwn(body, 'flow')) return body.flow
  // A bare flow may come with the input beside it; those keys are not part of the flow.
  const rest: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(body)) {
    if (key !== 'input' && key !== 'context') Object.defineProperty(rest, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return rest
}

/** The execution input: `input`, or `context` as one of the services called it. */
export function inputOf(body: unknown): unknown {
  if (!isObject(body)) return undefined
  if (Object.hasOwn(body, 'input')) return body.input
  if (Object.hasOwn(body, 'context')) return body.context
  return undefined
}

const AnyBody = z.unknown().describe('The request shapes of the original services.')
const IdParams = z.object({ id: z.string().min(1).max(200) })
const LEGACY = { tags: ['seed-compatible'] }

export function seedCompatRoutes(app: FastifyInstance, deps: SeedCompatDeps): void {
  const { engine } = deps
  const r = app.withTypeProvider<ZodTypeProvider>()

  const run = async (source: FlowSource, input: unknown): Promise<ExecutionDetail> => {
    checkDataSize(input, deps.dataLimit, 'the execution input')
    const started = await engine.start(source, input === undefined ? {} : { input })
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, deps.defaultWaitMs, undefined)))
    try {
      const ended = await Promise.race([started.done, expired])
      return ended ?? (await load(started.executionId))
    } finally {
      clearTimeout(timer)
    }
  }
  const runInline = (body: unknown): Promise<ExecutionDetail> => run({ flow: flowDocumentOf(body) }, inputOf(body))
  const load = async (id: string): Promise<ExecutionDetail> => {
    const detail = await engine.get(id)
    if (detail === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `Execution ${id} not found`)
    return detail
  }
  const flowName = async (detail: ExecutionDetail): Promise<string | null> => (await engine.store.getDefinition(detail.execution.definitionHash))?.name ?? null

  // The service with a REST-ish /api/v1 surface.
  r.post('/api/v1/flows/execute', { schema: { ...LEGACY, body: AnyBody } }, async (request) => {
    const detail = await runInline(request.body)
    return apiV1ExecuteAnswer(detail, await flowName(detail))
  })
  r.get('/api/v1/flows/executions', { schema: { ...LEGACY, querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }) } }, async (request) => {
    const page = await engine.store.listExecutions({ limit: request.query.limit })
    const details = await Promise.all(page.items.map((e) => load(e.id)))
    return Promise.all(details.map(async (d) => executionState(d, await flowName(d))))
  })
  r.get('/api/v1/flows/executions/:id', { schema: { ...LEGACY, params: IdParams } }, async (request) => {
    const detail = await load(request.params.id)
    return executionState(detail, await flowName(detail))
  })

  // The two services that answered on /flow/execute.
  r.post('/flow/execute', { schema: { ...LEGACY, body: AnyBody } }, async (request) => flowExecuteAnswer(await runInline(request.body)))
  r.get('/flow/status/:id', { schema: { ...LEGACY, params: IdParams } }, async (request) => flowExecuteAnswer(await load(request.params.id)))
  r.post('/flow/validate', { schema: { ...LEGACY, body: AnyBody } }, (request) => {
    const result = engine.validate(flowDocumentOf(request.body))
    if (result.ok) return { valid: true, flow: result.flow, message: 'Flow is valid', warnings: result.warnings }
    return { valid: false, error: result.errors.map((e) => `${e.path === '' ? '(flow)' : e.path}: ${e.message}`).join('; '), errors: result.errors }
  })

  // The service with flow runs.
  r.post('/run-flow', { schema: { ...LEGACY, body: AnyBody } }, async (request) => runFlowAnswer(await runInline(request.body)))

  // The service with a flow registry.
  r.post('/flows', { schema: { ...LEGACY, body: AnyBody } }, async (request, reply: FastifyReply) => {
    const record = await engine.registerFlow(flowDocumentOf(request.body))
    return reply.code(201).send({ message: `Flow ${record.id} saved (version ${record.version})`, flow_id: record.id, version: record.version })
  })
  r.get('/flows/:id', { schema: { ...LEGACY, params: IdParams } }, async (request) => {
    const { id } = request.params
    // A flow definition id first, then an execution id (SPEC §4).
    const flow = await engine.store.getFlow(id)
    if (flow !== undefined) return flow.flow
    const detail = await engine.get(id)
    if (detail === undefined) throw new FlowManagerError('FLOW_NOT_FOUND', `Flow ${id} not found`)
    return flowRunAnswer(detail, await flowName(detail))
  })
  r.post('/flows/execute', { schema: { ...LEGACY, body: AnyBody } }, async (request) => {
    const body = request.body
    const flowId = isObject(body) ? body.flow_id : undefined
    if (typeof flowId !== 'string' || flowId.length === 0) {
      throw new HttpProblemError('REQUEST_INVALID', 'send {"flow_id": "…", "context": {…}}', [{ code: 'MISSING_FIELD', path: '/flow_id', message: 'required field "flow_id" is missing' }])
    }
    const detail = await run({ flowId }, inputOf(body))
    return flowsExecuteAnswer(detail)
  })
  r.get('/executions/:id', { schema: { ...LEGACY, params: IdParams } }, async (request) => flowsExecuteAnswer(await load(request.params.id)))
}
