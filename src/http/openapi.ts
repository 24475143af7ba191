import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'

export const DOCS_PREFIX = '/docs'

/**
 * The OpenAPI 3.1 document, generated from the route schemas (zod → JSON Schema 2020-12), and
 * Swagger UI served from the package's own assets, no CDN. Registered before the routes, since
 * the document is collected as routes are added.
 */
export async function registerOpenApi(app: FastifyInstance, options: { version: string; apiKeys: boolean }): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Flow Manager',
        version: options.version,
        description:
          'Run JSON-defined flows of TypeScript tasks, durably. Errors are application/problem+json (RFC 9457) with a stable `code`. Try POST /api/v1/executions with the seed flow example.',
      },
      tags: [
        { name: 'executions', description: 'Run flows and follow executions' },
        { name: 'flows', description: 'Validate and register flow definitions' },
        { name: 'tasks', description: 'Registered task types' },
        { name: 'operations', description: 'Health, readiness and metrics' },
        { name: 'seed-compatible', description: 'Routes of the original services, kept for their clients' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A key from FLOW_MANAGER_API_KEYS' } } },
      ...(options.apiKeys ? { security: [{ bearer: [] }] } : {}),
    },
    transform: jsonSchemaTransform,
  })
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: true },
  })
}
