import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConditionSchema, FlowDocumentSchema, FlowSchema, TaskSchema } from '../../src/core/flow-schema.js'

type JsonSchema = Record<string, unknown>
const SCHEMA_PATH = fileURLToPath(new URL('../../schema/flow.schema.json', import.meta.url))

function load(): JsonSchema {
  return JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as JsonSchema
}

/** Follows local `$ref`s (`#/$defs/…`) until it reaches a schema with content of its own. */
function deref(root: JsonSchema, schema: JsonSchema): JsonSchema {
  let current = schema
  for (let hops = 0; typeof current.$ref === 'string' && hops < 50; hops++) {
    const path = current.$ref.replace(/^#\//, '').split('/')
    current = path.reduce<JsonSchema>((node, segment) => node[segment] as JsonSchema, root)
  }
  return current
}

function objectSchemas(root: JsonSchema): { flow: JsonSchema; task: JsonSchema; condition: JsonSchema } {
  const branches = (root.anyOf as JsonSchema[]).map((b) => deref(root, b))
  const envelope = branches.find((b) => Object.keys(b.properties as object).includes('flow'))!
  const flow = deref(root, (envelope.properties as Record<string, JsonSchema>).flow!)
  const property = (schema: JsonSchema, key: string): JsonSchema => deref(root, (schema.properties as Record<string, JsonSchema>)[key]!)
  const task = deref(root, property(flow, 'tasks').items as JsonSchema)
  const condition = deref(root, property(flow, 'conditions').items as JsonSchema)
  return { flow, task, condition }
}

describe('schema/flow.schema.json', () => {
  it('exists and declares JSON Schema draft 2020-12', () => {
    expect(existsSync(SCHEMA_PATH)).toBe(true)
    expect(load().$schema).toBe('https://json-schema.org/draft/2020-12/schema')
  })

  it('names exactly the properties of the zod schema, rejects others, and requires the same ones', () => {
    const root = load()
    const { flow, task, condition } = objectSchemas(root)
    const cases = [
      [flow, FlowSchema],
      [task, TaskSchema],
      [condition, ConditionSchema],
    ] as const
    for (const [json, zod] of cases) {
      expect(Object.keys(json.properties as object).sort()).toEqual(Object.keys(zod.shape).sort())
      expect(json.additionalProperties).toBe(false)
      const required = Object.entries(zod.shape)
        .filter(([, field]) => !field.safeParse(undefined).success)
        .map(([key]) => key)
      expect([...(json.required as string[])].sort()).toEqual(required.sort())
    }
  })

  it('is what the build generates from the zod schema today (rebuild after changing flow-schema.ts)', () => {
    const generated = z.toJSONSchema(FlowDocumentSchema, { target: 'draft-2020-12', reused: 'ref' })
    const { title, ...onDisk } = load()
    expect(title).toBe('Flow Manager flow')
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(generated)))
  })
})
