import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { sendProblem } from './error-handler.js'
import { problem } from './problem.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by the auth plugin from the route's path: open without an API key. */
    public?: boolean
  }
}

export interface AuthOptions {
  /** Accepted API keys; none means the API is open. */
  readonly apiKeys: readonly string[]
  /** Whether /metrics stays open when keys are set. Default true. */
  readonly metricsPublic: boolean
  /** Path prefix of the interactive docs, open like /openapi.json. */
  readonly docsPrefix: string
}

/** Parses FLOW_MANAGER_API_KEYS: comma-separated, blanks ignored. */
export function parseApiKeys(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key.length > 0)
}

/** The paths that stay open when keys are set (the README's "Auth"); everything else needs a key. */
export function isPublicPath(url: string, options: Pick<AuthOptions, 'metricsPublic' | 'docsPrefix'>): boolean {
  // /api/v1/health is /health under the path one of the original services served it on.
  if (url === '/health' || url === '/api/v1/health' || url === '/ready' || url === '/openapi.json' || url === '/') return true
  if (url === '/metrics') return options.metricsPublic
  if (url === options.docsPrefix || url.startsWith(`${options.docsPrefix}/`)) return true
  return url === '/ui' || url.startsWith('/ui/')
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** The keys a request presents: `Authorization: Bearer KEY`, and `X-API-Key: KEY` as one of the original services' clients send it. */
function presentedKeys(headers: { authorization?: string | undefined; 'x-api-key'?: string | string[] | undefined }): string[] {
  const keys: string[] = []
  const bearer = typeof headers.authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization)?.[1] : undefined
  if (bearer !== undefined) keys.push(bearer)
  const apiKey = headers['x-api-key']
  if (typeof apiKey === 'string' && apiKey.trim().length > 0) keys.push(apiKey.trim())
  return keys
}

/**
 * API-key auth. Each route's openness is decided once, when it is added (onRoute), from its
 * path; a request is then checked against that flag, so a route added later is closed unless its
 * path is in the public list. Keys are compared as SHA-256 digests with timingSafeEqual, and every
 * key is compared, so neither the length nor the position of a match shows in the timing.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: isPublicPath(route.url ?? route.path ?? '', options) }
  })
  if (options.apiKeys.length === 0) return
  const keys = options.apiKeys.map(digest)
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public === true) return
    let ok = false
    for (const presented of presentedKeys(request.headers)) {
      const given = digest(presented)
      for (const key of keys) ok = timingSafeEqual(given, key) || ok
    }
    if (ok) return
    const sent = request.headers.authorization !== undefined || request.headers['x-api-key'] !== undefined
    reply.header('www-authenticate', 'Bearer realm="flow-manager"')
    return sendProblem(
      reply,
      problem('UNAUTHORIZED', sent ? 'the API key is not one this server accepts' : 'send "Authorization: Bearer <key>" (or "X-API-Key: <key>"); this server requires an API key'),
    )
  })
}
