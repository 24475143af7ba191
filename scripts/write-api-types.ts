// Writes web/src/generated/api.ts: the web UI's types for the HTTP API, generated with
// openapi-typescript from the document the server serves at /openapi.json. The file is not
// committed: `npm run build`, `build:ui`, `dev:ui` and `typecheck` write it before they need it.
import { mkdirSync, writeFileSync } from 'node:fs'
import openapiTS, { astToString } from 'openapi-typescript'
import { createEngine } from '../src/engine/engine.js'
import { buildApp } from '../src/http/app.js'
import { createMemoryStore } from '../src/store/memory/memory-store.js'
import { builtinTasks } from '../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../src/tasks/define-task.js'

const target = new URL('../web/src/generated/api.ts', import.meta.url)

const store = createMemoryStore()
const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
const app = await buildApp({ engine, logger: 'silent' })
try {
  const response = await app.inject({ url: '/openapi.json' })
  if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`)
  // The document text as served, parsed by openapi-typescript itself.
  const ast = await openapiTS(response.body, { immutable: true, alphabetize: true })
  const header = '// Generated from /openapi.json by scripts/write-api-types.ts (npm run api-types). Do not edit.\n\n'
  mkdirSync(new URL('.', target), { recursive: true })
  writeFileSync(target, header + astToString(ast))
} finally {
  await app.close()
  await engine.close({ graceMs: 0 })
  await store.close()
}
