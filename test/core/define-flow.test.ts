import { describe, expect, it } from 'vitest'
import { builtinTasks, createEngine, createMemoryStore, createTaskRegistry, defineFlow, parseFlow, toExecutionView, type Execution } from '../../src/index.js'

// The compile-time checks are in test/types/define-flow.types.ts; this is what the flow does at run time.
const flow = defineFlow({
  id: 'typed',
  name: 'Typed flow',
  start_task: 'first',
  tasks: [{ name: 'first', type: 'noop' }, { name: 'second', type: 'noop', input: { from: '${results.first.status}' } }],
  conditions: [{ name: 'after_first', source_task: 'first', outcome: 'success', target_task_success: 'second', target_task_failure: 'end' }],
})

describe('defineFlow', () => {
  it('returns the flow as written, which the engine validates and runs like JSON', async () => {
    expect(parseFlow(JSON.parse(JSON.stringify(flow)))).toMatchObject({ ok: true })
    const store = createMemoryStore()
    const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
    try {
      const execution: Execution = toExecutionView(await engine.run({ flow }))
      expect(execution).toMatchObject({ status: 'completed', executed_tasks: ['first', 'second'] })
      expect(execution.task_results[1]?.data).toEqual({ from: 'success' })
    } finally {
      await engine.close()
      await store.close()
    }
  })
})
