import type { ASTNode } from '@marcbachmann/cel-js'

/** A `results.<task>` reference in an expression; `guarded` when the expression tests `has(results.<task>)`. */
export interface ResultReference {
  readonly task: string
  readonly guarded: boolean
}

export interface Vetted {
  readonly references: ResultReference[]
  /** `results` is read other than as `results.X` or `results["X"]`, so any result may be read. */
  readonly readsAnyResult: boolean
}

interface Walk {
  readonly references: ResultReference[]
  readonly guarded: Set<string>
  readsAnyResult: boolean
}

const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter'])

const MATCHES_REFUSED =
  'matches() is not available: a regular expression can take exponential time on hostile input; use contains(), startsWith() or endsWith()'

/**
 * Applies the shape rules that keep evaluation linear in the data; returns what the expression
 * reads of `results`, or the reason for refusing it:
 * - `matches()` is refused (a JavaScript regular expression can take exponential time);
 * - `cel.bind()` is refused (binding a list and concatenating it with itself doubles it per level);
 * - a comprehension (`all`, `exists`, `exists_one`, `map`, `filter`) may not contain or range over
 *   another one, and its body may use only its own variable and literals, not `input` or `results`.
 */
export function vet(ast: ASTNode): Vetted | string {
  const walk: Walk = { references: [], guarded: new Set(), readsAnyResult: false }
  const problem = visit(ast, walk, TOP)
  if (problem !== undefined) return problem
  const references = walk.references.map((r) => (walk.guarded.has(r.task) ? { task: r.task, guarded: true } : r))
  return { references, readsAnyResult: walk.readsAnyResult }
}

const isResults = (node: ASTNode): boolean => node.op === 'id' && node.args === 'results'

/** Where a node sits: in the body of a comprehension, in the range of one (both named), or neither. */
interface Place {
  readonly body: string | null
  readonly range: string | null
}
const TOP: Place = { body: null, range: null }

function visit(node: ASTNode, walk: Walk, place: Place): string | undefined {
  switch (node.op) {
    case 'value':
      return undefined
    case 'id':
      if (place.body !== null && (node.args === 'input' || node.args === 'results')) {
        return `inside ${place.body}() only its own variable and literals may be used, not "${node.args}": read the value outside the comprehension, or compare with a literal (this keeps evaluation linear in the data)`
      }
      if (node.args === 'results') walk.readsAnyResult = true
      return undefined
    case '.':
    case '.?': {
      const [target, field] = node.args
      if (isResults(target) && place.body === null) {
        walk.references.push({ task: field, guarded: false })
        return undefined
      }
      return visit(target, walk, place)
    }
    case '[]':
    case '[?]': {
      const [target, index] = node.args
      if (isResults(target) && place.body === null && index.op === 'value' && typeof index.args === 'string') {
        walk.references.push({ task: index.args, guarded: false })
        return undefined
      }
      return visit(target, walk, place) ?? visit(index, walk, place)
    }
    case 'call': {
      const [name, args] = node.args
      if (name === 'matches') return MATCHES_REFUSED
      if (name === 'has') {
        const arg = args[0]
        const task = arg === undefined ? undefined : resultTaskOf(arg)
        if (task !== undefined) walk.guarded.add(task)
      }
      return visitAll(args, walk, place)
    }
    case 'rcall': {
      const [name, receiver, args] = node.args
      if (name === 'matches') return MATCHES_REFUSED
      if (name === 'bind' && receiver.op === 'id' && receiver.args === 'cel') {
        return 'cel.bind() is not available: a bound value used twice can double in size at every level; write the sub-expression out'
      }
      if (COMPREHENSIONS.has(name)) {
        const outer = place.body ?? place.range
        if (outer !== null) {
          return `${name}() inside ${outer}() is not allowed: nested or chained comprehensions can take time that grows with the product of list sizes`
        }
        // The range may read input and results; the body only its own variable and literals.
        return visit(receiver, walk, { body: null, range: name }) ?? visitAll(args, walk, { body: name, range: null })
      }
      return visit(receiver, walk, place) ?? visitAll(args, walk, place)
    }
    case 'list':
      return visitAll(node.args, walk, place)
    case 'map': {
      for (const [k, v] of node.args) {
        const problem = visit(k, walk, place) ?? visit(v, walk, place)
        if (problem !== undefined) return problem
      }
      return undefined
    }
    case '?:':
      return visitAll(node.args, walk, place)
    case '!_':
    case '-_':
      return visit(node.args, walk, place)
    default:
      return visitAll(node.args, walk, place)
  }
}

function visitAll(nodes: readonly ASTNode[], walk: Walk, place: Place): string | undefined {
  for (const n of nodes) {
    const problem = visit(n, walk, place)
    if (problem !== undefined) return problem
  }
  return undefined
}

/** `X` for `results.X`, `results.X.…` or `results["X"]…`. */
function resultTaskOf(node: ASTNode): string | undefined {
  let current: ASTNode = node
  for (;;) {
    if (current.op === '.' || current.op === '.?') {
      const [target, field] = current.args
      if (isResults(target)) return field
      current = target
    } else if (current.op === '[]' || current.op === '[?]') {
      const [target, index] = current.args
      if (isResults(target)) return index.op === 'value' && typeof index.args === 'string' ? index.args : undefined
      current = target
    } else {
      return undefined
    }
  }
}
