import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from './helpers.js'

type Json = Record<string, unknown>
interface Operation {
  readonly operationId?: string
  readonly tags?: readonly string[]
  readonly requestBody?: { content: Record<string, { schema: Json; example?: unknown }> }
  readonly responses: Record<string, { content?: Record<string, { schema: Json }> }>
}

let t: TestApp
let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Json> }; tags: { name: string }[] }
beforeAll(async () => {
  t = await createTestApp()
  doc = (await t.app.inject({ url: '/openapi.json' })).json()
})
afterAll(async () => {
  await t.close()
})

const operations = (): [string, string, Operation][] =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]): [string, string, Operation] => [method.toUpperCase(), path, op]))
const operation = (method: string, path: string): Operation => doc.paths[path]![method.toLowerCase()]!
const responseSchema = (method: string, path: string, status: number): Json | undefined => operation(method, path).responses[status]?.content?.['application/json']?.schema

/** Inlines every `#/$defs/…` and `#/components/schemas/…` reference. */
function resolve(value: unknown, defs: Record<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((item) => resolve(item, defs))
  if (typeof value !== 'object' || value === null) return value
  const { $ref, ...rest } = value as Json
  if (typeof $ref === 'string') {
    const target = resolve(defs[$ref.replace(/^#\/(\$defs|components\/schemas)\//, '')], defs) as Json
    return { ...target, ...(resolve(rest, defs) as Json) }
  }
  return Object.fromEntries(Object.entries(rest).map(([key, child]) => [key, resolve(child, defs)]))
}

describe('the OpenAPI document', () => {
  it('gives every operation a unique operationId', () => {
    const ids = operations().map(([method, path, op]) => op.operationId ?? `${method} ${path} has none`)
    expect(ids.filter((id) => id.includes(' has none'))).toEqual([])
    expect(new Set(ids).size).toBe(ids.length)
    expect(operation('POST', '/api/v1/executions').operationId).toBe('startExecution')
    expect(operation('GET', '/api/v1/executions/{id}').operationId).toBe('getExecution')
  })

  it('holds the shared shapes once, as components, and refers to them', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Flow', 'FlowDocument', 'Execution', 'ExecutionSummary', 'TaskRun', 'Problem', 'Issue']))
    expect(responseSchema('GET', '/api/v1/executions/{id}', 200)).toEqual({ $ref: '#/components/schemas/Execution' })
    expect(responseSchema('GET', '/api/v1/executions/{id}', 404)).toEqual({ $ref: '#/components/schemas/Problem' })
    expect(responseSchema('GET', '/api/v1/flows/{id}', 200)).toEqual({ $ref: '#/components/schemas/FlowVersion' })
    expect(JSON.stringify(doc.components.schemas.Execution)).toContain('"$ref":"#/components/schemas/TaskRun"')
    // Every reference resolves, and nothing unused is listed.
    const text = JSON.stringify(doc)
    const refs = new Set([...text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]))
    expect([...refs].filter((ref) => doc.components.schemas[ref!] === undefined)).toEqual([])
    expect(Object.keys(doc.components.schemas).filter((id) => !refs.has(id))).toEqual([])
  })

  it('describes Flow with the same schema as schema/flow.schema.json', () => {
    const file = JSON.parse(readFileSync(new URL('../../schema/flow.schema.json', import.meta.url), 'utf8')) as { anyOf: Json[]; $defs: Record<string, unknown> }
    const bare = file.anyOf.map((branch) => resolve(branch, file.$defs) as Json).find((branch) => (branch.properties as Json | undefined)?.start_task !== undefined)
    expect(resolve(doc.components.schemas.Flow, doc.components.schemas)).toEqual(bare)
  })

  it('describes the body of POST /api/v1/flows as a flow document, with the sample flow as its example', () => {
    const body = operation('POST', '/api/v1/flows').requestBody!.content['application/json']!
    expect(body.schema).toMatchObject({ allOf: [{ $ref: '#/components/schemas/FlowDocument' }] })
    expect(JSON.stringify(body.example)).toContain('condition_task1_result')
    expect(Object.keys(operation('POST', '/api/v1/flows').responses)).toEqual(expect.arrayContaining(['200', '201', '422']))
    const start = operation('POST', '/api/v1/executions').requestBody!.content['application/json']!.schema as { properties: Json }
    expect(start.properties.flow).toMatchObject({ allOf: [{ $ref: '#/components/schemas/FlowDocument' }] })
  })

  it('tags the seed-compatible routes as such, and only those, listing their tag last', () => {
    const seed = operations().filter(([, , op]) => op.tags?.includes('seed-compatible') === true).map(([method, path]) => `${method} ${path}`)
    expect(seed.sort()).toEqual(
      [
        'POST /flow/execute', 'GET /flow/status/{id}', 'POST /flow/validate', 'POST /run-flow', 'POST /api/v1/flows/execute', 'GET /api/v1/flows/executions',
        'GET /api/v1/flows/executions/{id}', 'POST /flows', 'GET /flows/{id}', 'POST /flows/execute', 'GET /executions/{id}', 'GET /api/v1/health',
      ].sort(),
    )
    for (const [method, path, op] of operations()) expect({ route: `${method} ${path}`, tags: op.tags?.length }).toEqual({ route: `${method} ${path}`, tags: 1 })
    expect(doc.tags.at(-1)?.name).toBe('seed-compatible')
  })

  it('points readers only at documents they have', () => {
    expect(JSON.stringify(doc)).not.toMatch(/SPEC|STACK\.md/)
  })
})
