import { describe, expect, it } from 'vitest'
import { renderGraph } from '../../src/core/graph.js'
import { parseFlow } from '../../src/core/parse-flow.js'

const parsed = parseFlow({
  id: 'g',
  name: 'G',
  start_task: 'a',
  tasks: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
  conditions: [
    { name: 'w', source_task: 'a', when: 'input.x == "y" || input.z', target_task_success: 'b', target_task_failure: 'c' },
    { name: 'k', source_task: 'b', cases: [{ when: 'results.b.status == "success"', target: 'c' }], default: 'end' },
  ],
})
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
const flow = parsed.flow

describe('renderGraph with data conditions', () => {
  it('labels when edges with the expression and else, case edges with their expression and default (mermaid)', () => {
    const text = renderGraph(flow, 'mermaid')
    expect(text).toContain('t0 -->|"input.x == #quot;y#quot; || input.z"| t1')
    expect(text).toContain('t0 -->|else| t2')
    expect(text).toContain('t1 -->|"results.b.status == #quot;success#quot;"| t2')
    expect(text).toContain('t1 -->|default| __end')
  })

  it('labels the same edges in DOT, escaped', () => {
    const text = renderGraph(flow, 'dot')
    expect(text).toContain('"a" -> "b" [label="input.x == \\"y\\" || input.z"];')
    expect(text).toContain('"b" -> "__end" [label="default"];')
  })
})
