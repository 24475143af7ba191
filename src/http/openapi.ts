import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { createJsonSchemaTransformObject, jsonSchemaTransform } from 'fastify-type-provider-zod'
import { COMPONENTS } from './schemas.js'

export const DOCS_PREFIX = '/docs'

/** The tag of the routes kept for clients of the original services: listed last, and collapsed in /docs. */
export const SEED_COMPATIBLE_TAG = 'seed-compatible'

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Every `$ref` to a component anywhere in `value`. */
function refsIn(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found)
  else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(COMPONENTS)) found.add(child.slice(COMPONENTS.length))
      else refsIn(child, found)
    }
  }
  return found
}

/**
 * The components the document uses, and no others. The zod transform emits each named schema
 * twice, as `<id>` (responses) and `<id>Input` (requests); the routes validate flow documents in
 * the engine and refer to the response forms, so most `…Input` copies are referenced by nothing.
 */
export function keepUsedComponents(document: Json): Json {
  const components = isObject(document.components) ? document.components : {}
  const schemas = isObject(components.schemas) ? components.schemas : {}
  const used = refsIn(document.paths, new Set())
  for (const pending = [...used]; pending.length > 0; ) {
    const schema = schemas[pending.pop() ?? '']
    for (const ref of refsIn(schema, new Set())) {
      if (!used.has(ref)) {
        used.add(ref)
        pending.push(ref)
      }
    }
  }
  const kept = Object.fromEntries(Object.entries(schemas).filter(([id]) => used.has(id)))
  return { ...document, components: { ...components, schemas: kept } }
}

const withComponents = createJsonSchemaTransformObject({})

/**
 * Collapses the seed-compatible tag once Swagger UI has drawn the page. Swagger UI serializes
 * this function into its initializer, where `ui` is the Swagger UI instance.
 */
function collapseSeedCompatible(): void {
  // @ts-expect-error `ui` exists where this function runs: inside @fastify/swagger-ui's initializer.
  ;(ui as { layoutActions: { show: (key: string[], shown: boolean) => void } }).layoutActions.show(['operations-tag', 'seed-compatible'], false)
}

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
          'Run JSON-defined flows of TypeScript tasks, durably. Errors are application/problem+json (RFC 9457) with a stable `code` (the error codes are listed in docs/api.md and the README). Try POST /api/v1/executions with the sample flow example.',
      },
      tags: [
        { name: 'executions', description: 'Run flows and follow executions' },
        { name: 'flows', description: 'Validate, simulate and register flow definitions' },
        { name: 'tasks', description: 'Registered task types' },
        { name: 'operations', description: 'Health, readiness and metrics' },
        { name: SEED_COMPATIBLE_TAG, description: 'Routes of the original services, kept for their clients (collapsed; new clients use the routes above)' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A key from FLOW_MANAGER_API_KEYS' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same keys, in the header some clients of the original services send' },
        },
      },
      ...(options.apiKeys ? { security: [{ bearer: [] }, { apiKey: [] }] } : {}),
    },
    transform: jsonSchemaTransform,
    transformObject: (document) => keepUsedComponents(withComponents(document) as Json) as ReturnType<typeof withComponents>,
  })
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: true, onComplete: collapseSeedCompatible },
  })
}
