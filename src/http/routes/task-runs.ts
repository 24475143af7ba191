import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { FlowManagerError } from '../../core/errors.js'
import type { Engine } from '../../engine/engine.js'
import { toTaskRunView } from '../../engine/execution-view.js'
import { encodeCursor, decodeCursor } from '../../store/sql/cursor.js'
import { COMMON_PROBLEMS, ProblemSchema, TaskRunViewSchema, pageOf } from '../schemas.js'

const IdParams = z.object({ id: z.string().min(1).max(200) })

/** Every task run of an execution, page by page (the representation carries the latest 1,000), one run whole, and signals. */
export function taskRunRoutes(app: FastifyInstance, engine: Engine): void {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const exists = async (id: string): Promise<void> => {
    if ((await engine.reads.record(id)) === undefined) throw new FlowManagerError('EXECUTION_NOT_FOUND', `no execution "${id}"`)
  }

  r.get(
    '/api/v1/executions/:id/task-runs',
    {
      schema: {
        tags: ['executions'],
        operationId: 'listTaskRuns',
        summary: "An execution's task runs in order, page by page (each page within 8 MiB of data)",
        params: IdParams,
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Runs per page, 1 to 1000; default 100.'),
          cursor: z.string().min(1).max(200).optional().describe('The next_cursor of the previous page.'),
        }),
        response: { 200: pageOf(TaskRunViewSchema, 'TaskRunPage'), 404: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request) => {
      const { id } = request.params
      const after = request.query.cursor === undefined ? 0 : decodeCursor<[number]>(request.query.cursor, ['number'])[0]
      const runs = await engine.reads.taskRuns(id, after, request.query.limit + 1)
      if (runs.length === 0) await exists(id)
      const items = runs.slice(0, request.query.limit)
      const last = items.at(-1)
      const more = runs.length > items.length || (last !== undefined && items.length < request.query.limit && (await engine.reads.taskRuns(id, last.seq, 1)).length > 0)
      return { items: items.map(toTaskRunView), next_cursor: more && last !== undefined ? encodeCursor([last.seq]) : null }
    },
  )

  r.get(
    '/api/v1/executions/:id/task-runs/:seq',
    {
      schema: {
        tags: ['executions'],
        operationId: 'getTaskRun',
        summary: 'One task run, whole (its data included, however large)',
        params: z.object({ id: z.string().min(1).max(200), seq: z.coerce.number().int().min(1) }),
        response: { 200: TaskRunViewSchema, 404: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request) => {
      const run = await engine.reads.taskRun(request.params.id, request.params.seq)
      if (run === undefined) {
        await exists(request.params.id)
        throw new FlowManagerError('EXECUTION_NOT_FOUND', `execution "${request.params.id}" has no task run ${request.params.seq}`)
      }
      return toTaskRunView(run)
    },
  )

  r.post(
    '/api/v1/executions/:id/signals/:name',
    {
      schema: {
        tags: ['executions'],
        operationId: 'sendSignal',
        summary: 'Send a signal: the oldest wait_for_signal task waiting for it takes the payload as its data',
        description:
          'Signals are kept in order until a wait takes them, one per wait. 202 once kept; 404 for an unknown execution; 409 when it has finished; 400 for a name that is not 1 to 200 letters, digits, ".", "_", "~" or "-" (or is "." or ".."); 413 for a payload over the data limit.',
        // The name's own rules are checked with the signal, so that a bad name gets a message that says them.
        params: z.object({ id: z.string().min(1).max(200), name: z.string().min(1).max(1000) }),
        body: z.unknown().optional().describe('The payload: any JSON value.'),
        response: { 202: z.object({ execution_id: z.string(), signal: z.string(), accepted: z.literal(true) }), 404: ProblemSchema, 409: ProblemSchema, ...COMMON_PROBLEMS },
      },
    },
    async (request, reply) => {
      const { id, name } = request.params
      await engine.signal(id, name, request.body ?? null)
      return reply.code(202).send({ execution_id: id, signal: name, accepted: true as const })
    },
  )
}
