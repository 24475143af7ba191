import fastifyCors from '@fastify/cors'
import fastifyHelmet from '@fastify/helmet'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify'
import type { Engine } from '../engine/engine.js'
import { packageVersion } from '../package-info.js'
import { AccessLogController } from './access-log.js'
import { registerAuth } from './auth.js'
import { clientErrorHandler, registerInvalidUrlRoute, registerUrlTextCheck, rewriteInvalidUrl } from './edge-checks.js'
import { registerErrorHandling } from './error-handler.js'
import { DEFAULT_MAX_JSON_DEPTH, registerJsonParser } from './json-body.js'
import { registerMetrics } from './metrics.js'
import { DOCS_PREFIX, registerOpenApi } from './openapi.js'
import { createExecutionFeed } from './execution-feed.js'
import { executionEventRoutes } from './routes/execution-events.js'
import { executionRoutes } from './routes/executions.js'
import { flowRoutes } from './routes/flows.js'
import { listEventRoutes } from './routes/list-events.js'
import { operationsRoutes } from './routes/operations.js'
import { seedCompatRoutes } from './routes/seed-compat.js'
import { taskRoutes } from './routes/tasks.js'
import { uiRoutes } from './routes/ui.js'
import { validatorCompiler } from './validation.js'

export interface BuildAppOptions {
  readonly engine: Engine
  /** A pino logger, or a level for a JSON logger on stdout. Default: level `info`. */
  readonly logger?: FastifyBaseLogger | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** API keys (FLOW_MANAGER_API_KEYS); none leaves the API open. */
  readonly apiKeys?: readonly string[]
  /** Largest request body in bytes (FLOW_MANAGER_BODY_LIMIT); default 4 MiB. Beyond it: 413. */
  readonly bodyLimit?: number
  /** Largest execution input, or task data in a simulation, in bytes of JSON (FLOW_MANAGER_DATA_LIMIT); default 1 MiB. Beyond it: 413 DATA_TOO_LARGE. */
  readonly dataLimit?: number
  /** Longest a whole request may take to arrive, in ms (FLOW_MANAGER_REQUEST_TIMEOUT_MS); default 30000, 0 for no limit. Beyond it: 408. */
  readonly requestTimeoutMs?: number
  /** Deepest nesting of a JSON body; default 64. */
  readonly maxJsonDepth?: number
  /** Serve /metrics; default true. */
  readonly metrics?: boolean
  /** Leave /metrics open when API keys are set; default true. */
  readonly metricsPublic?: boolean
  /** Origins allowed by CORS (`true` for any); default none (CORS off). */
  readonly cors?: boolean | string | readonly string[]
  /** Default `wait_ms` of POST /api/v1/executions; default 30000. */
  readonly defaultWaitMs?: number
  /** Milliseconds between SSE heartbeats; default 15000. */
  readonly heartbeatMs?: number
  /** Milliseconds between the list event stream's looks for changes made by other nodes; default 1000. */
  readonly listPollMs?: number
  /** Folder of the built web UI served under /ui/; default web/dist of this package. */
  readonly uiRoot?: string
  /** Sees every route as it is added, plugins' included (the auth test walks the table with it). */
  readonly onRoute?: (route: RouteOptions) => void
}

export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024
export const DEFAULT_DATA_LIMIT = 1024 * 1024
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/**
 * The policy of the pages served: helmet's default, minus the upgrade to https that would break
 * /docs on a plain-HTTP deployment (Swagger UI and the UI load only their own files).
 */
const HTML_POLICY = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' https: 'unsafe-inline'",
].join(';')

/**
 * Node's own timeouts for a whole-request limit. Node checks running requests against it every
 * 30 s by default, which would let a 30 s limit run to a minute; headers may not take longer than
 * the whole request.
 */
function nodeTimeouts(requestTimeout: number): { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number } {
  if (requestTimeout === 0) return { requestTimeout, headersTimeout: 60_000, connectionsCheckingInterval: 30_000 }
  return { requestTimeout, headersTimeout: Math.min(60_000, requestTimeout), connectionsCheckingInterval: Math.min(1000, Math.max(50, requestTimeout / 4)) }
}

/** Builds the HTTP service on an engine. It never listens: call `listen`, or use `inject` in tests. */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { engine } = options
  const logger = options.logger ?? 'info'
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const dataLimit = options.dataLimit ?? DEFAULT_DATA_LIMIT
  const app = Fastify({
    ...(typeof logger === 'string' ? { logger: { level: logger } } : { loggerInstance: logger }),
    logController: new AccessLogController(),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestTimeout,
    http: nodeTimeouts(requestTimeout),
    clientErrorHandler: clientErrorHandler(requestTimeout),
    rewriteUrl: (request) => rewriteInvalidUrl(request.url ?? '/'),
    // Flow ids may be 200 characters long; find-my-way's default (100) would 404 them.
    routerOptions: { maxParamLength: 500 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  })
  app.setValidatorCompiler(validatorCompiler)
  // Responses are built by typed view functions; their schemas document them, and checking each
  // answer against zod again would cost throughput for nothing.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  registerJsonParser(app, options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH)
  registerErrorHandling(app)
  registerUrlTextCheck(app)
  registerInvalidUrlRoute(app)

  const onRoute = options.onRoute
  if (onRoute !== undefined) app.addHook('onRoute', (route) => onRoute(route))
  const apiKeys = options.apiKeys ?? []
  registerAuth(app, { apiKeys, metricsPublic: options.metricsPublic ?? true, docsPrefix: DOCS_PREFIX })
  // The content security policy matters for pages (the UI, /docs), not for JSON: it is sent with
  // HTML only, as one header built once, instead of being worked out for every API answer.
  await app.register(fastifyHelmet, { contentSecurityPolicy: false })
  app.addHook('onSend', (_request, reply, payload, done) => {
    const type = reply.getHeader('content-type')
    if (typeof type === 'string' && type.startsWith('text/html')) reply.header('content-security-policy', HTML_POLICY)
    done(null, payload)
  })
  if (options.cors !== undefined && options.cors !== false) {
    const origin = typeof options.cors === 'string' ? options.cors : options.cors === true ? true : [...options.cors]
    await app.register(fastifyCors, { origin, exposedHeaders: ['location'] })
  }
  await registerOpenApi(app, { version: packageVersion(), apiKeys: apiKeys.length > 0 })
  const metrics = options.metrics === false ? undefined : registerMetrics(app, engine)

  const openStreams = new Set<() => void>()
  let closing = false
  app.addHook('preClose', (done) => {
    closing = true
    // Event streams never end on their own; shutdown ends them so that draining can finish.
    for (const end of [...openStreams]) end()
    done()
  })
  app.addHook('onSend', (_request, reply, payload, done) => {
    // A keep-alive connection answered during shutdown would otherwise hold the server open
    // until it idles out.
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })

  const defaultWaitMs = options.defaultWaitMs ?? 30_000
  operationsRoutes(app, { engine, metrics })
  taskRoutes(app, { engine })
  flowRoutes(app, { engine, dataLimit })
  executionRoutes(app, { engine, defaultWaitMs, dataLimit })
  const heartbeatMs = options.heartbeatMs ?? 15_000
  executionEventRoutes(app, { engine, heartbeatMs, openStreams })
  const feed = createExecutionFeed({ engine, pollMs: options.listPollMs ?? 1000, log: app.log })
  app.addHook('onClose', (_app, done) => {
    feed.close()
    done()
  })
  listEventRoutes(app, { feed, heartbeatMs, openStreams })
  seedCompatRoutes(app, { engine, defaultWaitMs, dataLimit })
  await uiRoutes(app, options.uiRoot === undefined ? {} : { root: options.uiRoot })
  return app
}
