import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import type { Engine } from '../../engine/engine.js'
import { sendProblem } from '../error-handler.js'
import { problem } from '../problem.js'
import { ProblemSchema } from '../schemas.js'

const UI_PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flow Manager</title></head>
<body><h1>Flow Manager</h1><p>The web UI is coming. Meanwhile the API is documented, and can be tried, at <a href="/docs">/docs</a>.</p></body></html>
`

/** Liveness, readiness, metrics, the OpenAPI document and the way to the UI. */
export function operationsRoutes(app: FastifyInstance, deps: { engine: Engine; metrics: Registry | undefined }): void {
  const r = app.withTypeProvider<ZodTypeProvider>()
  r.get('/health', { schema: { tags: ['operations'], summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } } }, () => ({
    status: 'ok' as const,
  }))

  r.get(
    '/ready',
    { schema: { tags: ['operations'], summary: 'Readiness: 200 when the database answers', response: { 200: z.object({ status: z.literal('ready') }), 503: ProblemSchema } } },
    async (request, reply) => {
      try {
        await deps.engine.store.ping()
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check: the database did not answer')
        return sendProblem(reply, problem('STORE_UNAVAILABLE', 'the database did not answer'))
      }
      return { status: 'ready' as const }
    },
  )

  const metrics = deps.metrics
  if (metrics !== undefined) {
    r.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_request, reply) => {
      const text = await metrics.metrics()
      return reply.type(metrics.contentType).send(text)
    })
  }

  r.get('/openapi.json', { schema: { hide: true } }, () => app.swagger())
  r.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect('/ui/', 302))
  const ui = (_request: unknown, reply: FastifyReply): FastifyReply => reply.type('text/html; charset=utf-8').send(UI_PLACEHOLDER)
  r.get('/ui', { schema: { hide: true } }, (_request, reply) => reply.redirect('/ui/', 302))
  r.get('/ui/*', { schema: { hide: true } }, ui)
}
