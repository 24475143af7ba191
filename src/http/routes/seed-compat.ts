import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { FlowManagerError, isFlowManagerError, type Issue } from '../../core/errors.js'
import { parseFlow } from '../../core/parse-flow.js'
import type { Engine, FlowSource } from '../../engine/engine.js'
import type { ExecutionDetail } from '../../store/store.js'
import { checkDataSize } from '../edge-checks.js'
import { HttpProblemError } from '../problem.js'
import { API_V1_ERRORS, FLOW_EXECUTE_ERRORS, FLOW_VALIDATE_ERRORS, REGISTRY_ERRORS, RUN_FLOW_ERRORS, seedErrorHandler, type SeedErrorTable } from './seed-compat-errors.js'
import { findCycle, flowDocumentOf, inputOf, isObject, rooted, withConditionDefaults, type ConditionDefaults } from './seed-compat-requests.js'
import { apiV1ExecuteAnswer, executionState, flowExecuteAnswer, flowRunAnswer, flowsExecuteAnswer, runFlowAnswer } from './seed-compat-shapes.js'

/**
 * Routes for clients written against the original Python services (the README's "Clients of the
 * original services"). They accept those request shapes, run through the same engine, and answer
 * in the old shapes, errors included: each route answers errors from the table of the service it
 * stands in for. Like those services, they accept task names that no task type has, and that task
 * fails when it runs (TASK_TYPE_NOT_REGISTERED). The canonical API is untouched by any of this.
 */

export interface SeedCompatDeps {
  readonly engine: Engine
  /** How long a run waits for its end before answering with the execution so far. */
  readonly defaultWaitMs: number
  /** Largest execution input in bytes of JSON. */
  readonly dataLimit: number
}

const AnyBody = z.unknown().describe('The request shapes of the original services.')
const IdParams = z.object({ id: z.string().min(1).max(200) })
const LEGACY = { tags: ['seed-compatible'], description: 'Kept for clients of the original services; new clients use the /api/v1 routes.' }
/** A seed-compatible operation's id and summary in the OpenAPI document. */
const op = (operationId: string, summary: string): { operationId: string; summary: string } => ({ operationId, summary })
/** A route's options: its schema, and the error table of the service it stands in for. */
const options = <S extends object>(table: SeedErrorTable, schema: S) => ({ schema: { ...LEGACY, ...schema }, errorHandler: seedErrorHandler(table) })

/** Both services on /flow/execute filled in a condition's `outcome`; the one on /run-flow also `target_task_failure`. */
const FLOW_EXECUTE_DEFAULTS: ConditionDefaults = { outcome: 'success' }
const RUN_FLOW_DEFAULTS: ConditionDefaults = { outcome: 'success', target_task_failure: 'end' }

const invalidFlow = (issues: readonly Issue[]): FlowManagerError =>
  new FlowManagerError('FLOW_INVALID', `the flow is invalid: ${issues[0]?.message ?? ''}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`, { issues })
const badRequest = (path: string, code: string, message: string): HttpProblemError => new HttpProblemError('REQUEST_INVALID', message, [{ code, path, message }])

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
      return ended ?? (await load(started.executionId, `execution "${started.executionId}" not found`))
    } finally {
      clearTimeout(timer)
    }
  }
  /** Runs the flow in the body as the services did; issue paths point into the body. */
  const runInline = async (body: unknown, defaults: ConditionDefaults): Promise<ExecutionDetail> => {
    const { doc, base } = flowDocumentOf(body)
    try {
      return await run({ flow: withConditionDefaults(doc, defaults), allowUnregisteredTypes: true }, inputOf(body))
    } catch (error) {
      throw isFlowManagerError(error) && error.code === 'FLOW_INVALID' ? invalidFlow(rooted(base, error.issues)) : error
    }
  }
  const load = async (id: string, notFound: string): Promise<ExecutionDetail> => {
    const detail = await engine.reads.execution(id)
    if (detail === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', notFound)
    return detail
  }
  const flowName = async (detail: ExecutionDetail): Promise<string | null> => (await engine.reads.definition(detail.execution))?.name ?? null

  // /health under the path one service served it on.
  r.get('/api/v1/health', { schema: { ...LEGACY, operationId: 'seedHealth', summary: 'Liveness, as GET /health' } }, () => ({ status: 'ok' as const }))

  // The service with a REST-ish /api/v1 surface.
  r.post('/api/v1/flows/execute', options(API_V1_ERRORS, { ...op('seedApiExecute', 'Run an inline flow (original /api/v1/flows service)'), body: AnyBody }), async (request) => {
    const detail = await runInline(request.body, {})
    return apiV1ExecuteAnswer(detail, await flowName(detail))
  })
  r.get('/api/v1/flows/executions', options(API_V1_ERRORS, { ...op('seedApiListExecutions', 'Executions (original /api/v1/flows service)'), querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }) }), async (request) => {
    const page = await engine.reads.list({ limit: request.query.limit })
    const details = (await Promise.all(page.items.map((e) => engine.reads.execution(e.id)))).filter((d) => d !== undefined)
    return Promise.all(details.map(async (d) => executionState(d, await flowName(d))))
  })
  r.get('/api/v1/flows/executions/:id', options(API_V1_ERRORS, { ...op('seedApiGetExecution', 'One execution (original /api/v1/flows service)'), params: IdParams }), async (request) => {
    const detail = await load(request.params.id, `Execution '${request.params.id}' not found`)
    return executionState(detail, await flowName(detail))
  })

  // The two services that answered on /flow/execute.
  r.post('/flow/execute', options(FLOW_EXECUTE_ERRORS, { ...op('seedFlowExecute', 'Run an inline flow (original /flow services)'), body: AnyBody }), async (request) => flowExecuteAnswer(await runInline(request.body, FLOW_EXECUTE_DEFAULTS)))
  r.get('/flow/status/:id', options(FLOW_EXECUTE_ERRORS, { ...op('seedFlowStatus', 'Status of an execution (original /flow services)'), params: IdParams }), async (request) => flowExecuteAnswer(await load(request.params.id, `Execution ID '${request.params.id}' not found`)))
  r.post('/flow/validate', options(FLOW_VALIDATE_ERRORS, { ...op('seedFlowValidate', 'Validate a flow (original /flow services)'), body: AnyBody }), (request) => {
    const { doc, base } = flowDocumentOf(request.body)
    const result = parseFlow(withConditionDefaults(doc, FLOW_EXECUTE_DEFAULTS), { taskTypes: engine.tasks, unregisteredTypes: 'warning' })
    if (!result.ok) throw invalidFlow(rooted(base, result.errors))
    return { valid: true, flow: result.flow, message: 'Flow definition is valid', warnings: rooted(base, result.warnings) }
  })

  // The service with flow runs.
  r.post('/run-flow', options(RUN_FLOW_ERRORS, { ...op('seedRunFlow', 'Run an inline flow (original flow-runs service)'), body: AnyBody }), async (request) => runFlowAnswer(await runInline(request.body, RUN_FLOW_DEFAULTS)))

  // The service with a flow registry; GET /flows/{id} also serves the flow runs of the one above.
  r.post('/flows', options(REGISTRY_ERRORS, { ...op('seedRegisterFlow', 'Register a flow (original registry service)'), body: AnyBody }), async (request, reply) => {
    const body = request.body
    if (!isObject(body)) throw badRequest('', 'INVALID_TYPE', 'the body must be a JSON object: {"flow_data": {"flow": {…}}}')
    if (Object.hasOwn(body, 'flow_data') && !isObject(body.flow_data)) throw badRequest('/flow_data', 'INVALID_TYPE', '"flow_data" must be an object: {"flow": {…}}')
    const { doc, base } = flowDocumentOf(body)
    const parsed = parseFlow(doc, { taskTypes: engine.tasks, unregisteredTypes: 'warning' })
    if (!parsed.ok) throw invalidFlow(rooted(base, parsed.errors))
    // This service refused loops; the flow's own path, whether enveloped or not.
    const cycle = findCycle(parsed.flow)
    const flowBase = isObject(doc) && Object.hasOwn(doc, 'flow') ? `${base}/flow` : base
    if (cycle !== undefined) throw invalidFlow(rooted(flowBase, [cycle]))
    const record = await engine.registerFlow(doc, { allowUnregisteredTypes: true })
    // The old clients read 201 either way; an unchanged definition adds no version and says so.
    const message = record.created ? `Flow ${record.id} created successfully` : `Flow ${record.id} unchanged (version ${record.version})`
    return reply.code(201).send({ message, flow_id: record.id, version: record.version })
  })
  r.get('/flows/:id', options(REGISTRY_ERRORS, { ...op('seedGetFlowOrRun', 'A flow definition, else an execution (original registry service)'), params: IdParams }), async (request) => {
    const { id } = request.params
    // A flow definition id first, then an execution id, since two services shared the path.
    const flow = await engine.reads.flow(id)
    if (flow !== undefined) return flow.flow
    const detail = await load(id, `Flow not found: no flow or flow run "${id}"`)
    return flowRunAnswer(detail, await flowName(detail))
  })
  r.post('/flows/execute', options(REGISTRY_ERRORS, { ...op('seedExecuteRegisteredFlow', 'Run a registered flow (original registry service)'), body: AnyBody }), async (request) => {
    const body = request.body
    if (!isObject(body)) throw badRequest('', 'INVALID_TYPE', 'the body must be a JSON object: {"flow_id": "…", "context": {…}}')
    const flowId = body.flow_id
    if (flowId === undefined) throw badRequest('/flow_id', 'MISSING_FIELD', 'Field required: send {"flow_id": "…", "context": {…}}')
    if (typeof flowId !== 'string' || flowId.length === 0) throw badRequest('/flow_id', 'INVALID_TYPE', '"flow_id" must be a non-empty string')
    const context = inputOf(body)
    if (context !== undefined && context !== null && !isObject(context)) throw badRequest(Object.hasOwn(body, 'input') ? '/input' : '/context', 'INVALID_TYPE', 'Input should be a valid dictionary: the context is a JSON object')
    return flowsExecuteAnswer(await run({ flowId }, context ?? {}))
  })
  r.get('/executions/:id', options(REGISTRY_ERRORS, { ...op('seedGetExecution', 'One execution (original registry service)'), params: IdParams }), async (request) => flowsExecuteAnswer(await load(request.params.id, 'Execution not found')))
}
