import { END, type Flow } from './flow-schema.js'

import type { GraphFormat } from './graph-formats.js'

export { GRAPH_FORMATS, type GraphFormat } from './graph-formats.js'

interface Edge {
  readonly from: string
  readonly to: string
  readonly label: string
}

/** Longest expression shown on an edge; longer ones are cut with an ellipsis. */
const MAX_LABEL = 60
const clip = (text: string): string => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text)

/** Edges of the flow: `success`/`failure` for outcome conditions, the expression (or `else`, `default`) for data conditions. */
function edges(flow: Flow): Edge[] {
  const out: Edge[] = []
  for (const c of flow.conditions) {
    if (c.cases !== undefined) {
      for (const k of c.cases) out.push({ from: c.source_task, to: k.target, label: clip(k.when) })
      out.push({ from: c.source_task, to: c.default ?? END, label: 'default' })
    } else if (c.when !== undefined) {
      out.push({ from: c.source_task, to: c.target_task_success ?? END, label: clip(c.when) })
      out.push({ from: c.source_task, to: c.target_task_failure ?? END, label: 'else' })
    } else {
      const outcome = c.outcome ?? 'success'
      const other = outcome === 'success' ? 'failure' : 'success'
      out.push({ from: c.source_task, to: c.target_task_success ?? END, label: outcome })
      out.push({ from: c.source_task, to: c.target_task_failure ?? END, label: other })
    }
  }
  return out
}

const endsSomewhere = (flow: Flow): boolean => edges(flow).some((e) => e.to === END)

/** Renders a flow as a Mermaid flowchart or a Graphviz DOT digraph. */
export function renderGraph(flow: Flow, format: GraphFormat): string {
  return format === 'mermaid' ? mermaid(flow) : dot(flow)
}

function mermaid(flow: Flow): string {
  // Mermaid ids must be simple words, so each task gets a positional id and its name as a label.
  const ids = new Map<string, string>()
  flow.tasks.forEach((task, i) => ids.set(task.name, `t${i}`))
  const id = (name: string): string => (name === END ? '__end' : (ids.get(name) ?? '__end'))
  const label = (text: string): string => `"${text.replaceAll('"', '#quot;')}"`
  const lines = ['flowchart TD', `  __start(( )) --> ${id(flow.start_task)}`]
  for (const task of flow.tasks) {
    const type = task.type !== undefined && task.type !== task.name ? `<br/><small>${task.type}</small>` : ''
    lines.push(`  ${id(task.name)}[${label(task.name + type)}]`)
  }
  if (endsSomewhere(flow)) lines.push('  __end(((end)))')
  const edgeLabel = (text: string): string => (/^[\w-]+$/.test(text) ? text : label(text))
  for (const e of edges(flow)) lines.push(`  ${id(e.from)} -->|${edgeLabel(e.label)}| ${id(e.to)}`)
  return lines.join('\n') + '\n'
}

function dot(flow: Flow): string {
  const q = (text: string): string => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
  const lines = [
    `digraph ${q(flow.id)} {`,
    '  rankdir=TB;',
    '  node [shape=box, style=rounded];',
    '  "__start" [shape=point];',
    `  "__start" -> ${q(flow.start_task)};`,
  ]
  for (const task of flow.tasks) {
    const type = task.type !== undefined && task.type !== task.name ? `\\n(${task.type})` : ''
    lines.push(`  ${q(task.name)} [label=${q(task.name).slice(0, -1)}${type}"];`)
  }
  if (endsSomewhere(flow)) lines.push('  "__end" [label="end", shape=doublecircle];')
  for (const e of edges(flow)) {
    const to = e.to === END ? '"__end"' : q(e.to)
    const color = e.label === 'failure' ? ', color=firebrick, fontcolor=firebrick' : ''
    lines.push(`  ${q(e.from)} -> ${to} [label=${q(e.label)}${color}];`)
  }
  lines.push('}')
  return lines.join('\n') + '\n'
}
