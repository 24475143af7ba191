import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import type { Engine } from '../../engine/engine.js'
import { sendProblem } from '../error-handler.js'
import { problem } from '../problem.js'
import { ProblemSchema } from '../schemas.js'

/** Liveness, readiness, metrics and the OpenAPI document. */
export function operationsRoutes(app: FastifyInstance, deps: { engine: Engine; metrics: Registry | undefined }): void {
  const r = app.withTypeProvider<ZodTypeProvider>()
  r.get('/health', { schema: { tags: ['operations'], operationId: 'health', summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } } }, () => ({
    status: 'ok' as const,
  }))

  r.get(
    '/ready',
    { schema: { tags: ['operations'], operationId: 'ready', summary: 'Readiness: 200 when the database answers', response: { 200: z.object({ status: z.literal('ready') }), 503: ProblemSchema } } },
    async (request, reply) => {
      try {
        await deps.engine.store.ping()
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check: the database did not answer')
        return sendProblem(reply, problem('STORE_UNAVAILABLE', 'the database did not answer'))
      }
      // Reads may work while writes fail (a full disk): not ready, for as long as the latest commit failed.
      if (deps.engine.store.writesFailing?.() === true) {
        return sendProblem(reply, problem('STORE_UNAVAILABLE', 'the database answers, but the latest write to it failed'))
      }
      return { status: 'ready' as const }
    },
  )

  const metrics = deps.metrics
  if (metrics !== undefined) {
    r.get('/metrics', { schema: { tags: ['operations'], operationId: 'metrics', summary: 'Prometheus metrics (text exposition format)', produces: ['text/plain'], response: { 200: z.string().describe('Prometheus text format') } } }, async (_request, reply) => {
      const text = await metrics.metrics()
      return reply.type(metrics.contentType).send(text)
    })
  }

  r.get('/openapi.json', { schema: { hide: true } }, () => app.swagger())
}
