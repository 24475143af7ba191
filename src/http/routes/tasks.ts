import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Engine } from '../../engine/engine.js'
import { inputJsonSchema } from '../../tasks/define-task.js'
import { COMMON_PROBLEMS, component } from '../schemas.js'

const TaskTypeViewSchema = component(
  z.object({
    name: z.string(),
    description: z.string(),
    input_schema: z.record(z.string(), z.unknown()).nullable().describe('JSON Schema (draft 2020-12) of the input; null when any input is accepted.'),
  }),
  'TaskType',
)

/** GET /api/v1/tasks: the registered task types. */
export function taskRoutes(app: FastifyInstance, deps: { engine: Engine }): void {
  // Computed once per set of task types: `names()` answers the same array until the registry
  // changes, which only `serve --watch` does.
  const tasks = deps.engine.tasks
  let cached: { names: readonly string[]; items: z.output<typeof TaskTypeViewSchema>[] } | undefined
  const items = (): z.output<typeof TaskTypeViewSchema>[] => {
    const names = tasks.names()
    if (cached?.names !== names) {
      cached = { names, items: tasks.list().map((type) => ({ name: type.name, description: type.description, input_schema: inputJsonSchema(type) })) }
    }
    return cached.items
  }
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/tasks',
    {
      schema: {
        tags: ['tasks'],
        operationId: 'listTaskTypes',
        summary: 'Registered task types, with descriptions and input schemas',
        response: { 200: z.object({ items: z.array(TaskTypeViewSchema) }), ...COMMON_PROBLEMS },
      },
    },
    () => ({ items: items() }),
  )
}
