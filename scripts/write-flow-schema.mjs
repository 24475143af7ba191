// Writes schema/flow.schema.json from the zod schema the code validates with, so the two cannot drift.
import { mkdirSync, writeFileSync } from 'node:fs'
import { URL } from 'node:url'
import { z } from 'zod'
import { FlowDocumentSchema } from '../dist/core/flow-schema.js'

const schema = z.toJSONSchema(FlowDocumentSchema, { target: 'draft-2020-12', reused: 'ref' })
const document = {
  title: 'Flow Manager flow',
  ...schema,
}
mkdirSync(new URL('../schema/', import.meta.url), { recursive: true })
writeFileSync(new URL('../schema/flow.schema.json', import.meta.url), JSON.stringify(document, null, 2) + '\n')
