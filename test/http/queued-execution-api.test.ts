import { expect, it } from 'vitest'
import { describeOnStores, oneTask, readUntil, type ExecutionBody } from './store-apps.js'

/** An execution that has no task run yet reads like any other, on SQLite and on PostgreSQL. */

describeOnStores(
  'an execution waiting for a slot',
  (ctx) => {
    it('reads as pending with no task runs, and runs once a slot frees', async () => {
      const holding = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: oneTask('holds_the_slot', { type: 'hold' }), wait: false })
      const queued = await ctx().call<ExecutionBody>('POST', '/api/v1/executions', { flow: oneTask('queued', { type: 'noop' }), wait: false })
      expect(queued.status).toBe(202)
      const read = await ctx().call<ExecutionBody>('GET', `/api/v1/executions/${queued.body.execution_id}`)
      expect(read.status).toBe(200)
      expect(read.body).toMatchObject({ status: 'pending', task_results: [], task_run_count: 0 })
      await ctx().call('POST', `/api/v1/executions/${holding.body.execution_id}/cancel`)
      const done = await readUntil(ctx(), queued.body.execution_id, (e) => e.status === 'completed', 'the queued execution ran')
      expect(done.task_results).toHaveLength(1)
    })
  },
  { maxConcurrent: 1 },
)
