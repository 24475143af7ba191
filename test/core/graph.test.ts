import { describe, expect, it } from 'vitest'
import { renderGraph } from '../../src/core/graph.js'
import { parseFlow } from '../../src/core/parse-flow.js'
import type { Flow } from '../../src/core/flow-schema.js'
import { seedFlow } from '../fixtures/flows.js'

function flowOf(document: unknown): Flow {
  const parsed = parseFlow(document)
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
  return parsed.flow
}

const seed = flowOf(seedFlow())
const quoted = flowOf({
  id: 'q"flow',
  name: 'Quotes',
  start_task: 'say "hi"',
  tasks: [{ name: 'say "hi"', type: 'noop' }, { name: 'back\\slash' }],
  conditions: [{ name: 'c', source_task: 'say "hi"', outcome: 'failure', target_task_success: 'back\\slash', target_task_failure: 'end' }],
})

/** Mermaid node ids by task name, read back from the `tN["label"]` node lines. */
function mermaidIds(text: string): Map<string, string> {
  const ids = new Map<string, string>()
  for (const match of text.matchAll(/^ {2}(t\d+)\["(.*)"\]$/gm)) ids.set(match[2]!.replaceAll('#quot;', '"').replace(/<br\/>.*$/, ''), match[1]!)
  return ids
}

describe('renderGraph as mermaid', () => {
  it('draws every task, the start and end, and every edge with its outcome label', () => {
    const text = renderGraph(seed, 'mermaid')
    expect(text.startsWith('flowchart TD\n')).toBe(true)
    const ids = mermaidIds(text)
    expect([...ids.keys()]).toEqual(['task1', 'task2', 'task3'])
    const [t1, t2, t3] = ['task1', 'task2', 'task3'].map((n) => ids.get(n)!)
    expect(text).toContain(`__start(( )) --> ${t1}`)
    expect(text).toContain('__end(((end)))')
    for (const edge of [`${t1} -->|success| ${t2}`, `${t1} -->|failure| __end`, `${t2} -->|success| ${t3}`, `${t2} -->|failure| __end`]) {
      expect(text).toContain(edge)
    }
    expect(text.match(/-->\|/g)).toHaveLength(4)
  })

  it('labels the edges of an outcome "failure" condition the other way round', () => {
    const text = renderGraph(quoted, 'mermaid')
    const ids = mermaidIds(text)
    expect(text).toContain(`${ids.get('say "hi"')} -->|failure| ${ids.get('back\\slash')}`)
    expect(text).toContain(`${ids.get('say "hi"')} -->|success| __end`)
  })

  it('escapes double quotes in task names and shows a task type that differs from the name', () => {
    const text = renderGraph(quoted, 'mermaid')
    expect(text).toContain('["say #quot;hi#quot;<br/><small>noop</small>"]')
    for (const line of text.split('\n').filter((l) => l.includes('['))) {
      expect(line.match(/"/g)?.length ?? 0).toBe(2)
    }
  })

  it('leaves the end node out when no condition routes to end', () => {
    const flow = flowOf({ id: 'f', name: 'F', start_task: 'a', tasks: [{ name: 'a' }], conditions: [] })
    expect(renderGraph(flow, 'mermaid')).not.toContain('__end')
  })
})

describe('renderGraph as dot', () => {
  it('draws every task and every edge with its outcome label', () => {
    const text = renderGraph(seed, 'dot')
    expect(text.startsWith('digraph "flow123" {\n')).toBe(true)
    expect(text.trimEnd().endsWith('}')).toBe(true)
    for (const name of ['task1', 'task2', 'task3']) expect(text).toContain(`  "${name}" [label="${name}"];`)
    expect(text).toContain('"__start" -> "task1";')
    expect(text).toContain('"task1" -> "task2" [label="success"];')
    expect(text).toContain('"task1" -> "__end" [label="failure", color=firebrick, fontcolor=firebrick];')
    expect(text).toContain('"task2" -> "task3" [label="success"];')
    expect(text).toContain('"task2" -> "__end" [label="failure", color=firebrick, fontcolor=firebrick];')
    expect(text.match(/ -> /g)).toHaveLength(5)
  })

  it('escapes quotes and backslashes in ids and names', () => {
    const text = renderGraph(quoted, 'dot')
    expect(text).toContain('digraph "q\\"flow" {')
    expect(text).toContain('"say \\"hi\\"" [label="say \\"hi\\"\\n(noop)"];')
    expect(text).toContain('"say \\"hi\\"" -> "back\\\\slash" [label="failure"')
    // Every quoted string closes: an even number of unescaped quotes on each line.
    for (const line of text.split('\n')) expect((line.replaceAll('\\\\', '').replaceAll('\\"', '').match(/"/g)?.length ?? 0) % 2).toBe(0)
  })
})
