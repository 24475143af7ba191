import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseFlow } from '../../src/core/parse-flow.js'
import { builtinRegistry, seedFlow } from '../fixtures/flows.js'
import { resolvePointer } from '../fixtures/json-pointer.js'

type Path = (string | number)[]

/** Every path to a value inside `value`, the root excluded. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return []
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value)
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])])
}

type Mutation = { kind: 'drop' } | { kind: 'rename'; to: string } | { kind: 'retype'; value: unknown }

function mutate(document: unknown, path: Path, mutation: Mutation): void {
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], document) as Record<string | number, unknown>
  const key = path[path.length - 1]!
  if (mutation.kind === 'retype') {
    parent[key] = mutation.value
  } else if (Array.isArray(parent)) {
    parent.splice(Number(key), 1)
  } else {
    const value = parent[key]
    delete parent[key]
    if (mutation.kind === 'rename') Object.defineProperty(parent, mutation.to, { value, enumerable: true, writable: true, configurable: true })
  }
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'drop' }),
  fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'target_task_sucess', 'flow', 'name')).map((to): Mutation => ({ kind: 'rename', to })),
  fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('end', 'task1', '', 'success', 'failure', 0, -1, 1.5, 1e9)).map((value): Mutation => ({ kind: 'retype', value })),
)

/** A seed flow with one to five random mutations, each at a path that still exists when applied. */
const mutatedSeed = fc.tuple(fc.boolean(), fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 5 })).map(([bare, steps]) => {
  const document: unknown = bare ? seedFlow().flow : seedFlow()
  for (const [pick, m] of steps) {
    const paths = pathsOf(document)
    if (paths.length > 0) mutate(document, paths[pick % paths.length]!, m)
  }
  return document
})

function checkOutcome(document: unknown): void {
  const result = parseFlow(document, { taskTypes: builtinRegistry })
  if (result.ok) {
    expect(result.flow.tasks.length).toBeGreaterThan(0)
    return
  }
  expect(result.errors.length).toBeGreaterThan(0)
  for (const issue of result.errors) {
    expect(issue.code).toMatch(/^[A-Z_]+$/)
    expect(typeof issue.message).toBe('string')
    expect(issue.message.length).toBeGreaterThan(0)
    expect(issue.path === '' || issue.path.startsWith('/')).toBe(true)
    expect(resolvePointer(document, issue.path).found, `${issue.code} at "${issue.path}" in ${JSON.stringify(document)}`).toBe(true)
  }
}

describe('parseFlow on arbitrary input', () => {
  it('never throws on random JSON and reports issues with a code, a resolvable path and a message', () => {
    fc.assert(fc.property(fc.jsonValue(), checkOutcome), { numRuns: 500 })
  })

  it('never throws on random JSON inside the envelope', () => {
    fc.assert(fc.property(fc.jsonValue(), (flow) => checkOutcome({ flow })), { numRuns: 300 })
  })

  it('never throws on seed flows with keys dropped, renamed or retyped', () => {
    fc.assert(fc.property(mutatedSeed, checkOutcome), { numRuns: 1000 })
  })

  it('finds a problem whenever a required field of the seed flow is dropped', () => {
    const required = ['id', 'name', 'start_task', 'tasks', 'conditions']
    fc.assert(
      fc.property(fc.constantFrom(...required), (key) => {
        const flow = seedFlow().flow
        delete flow[key]
        const result = parseFlow(flow)
        expect(result.ok).toBe(false)
        if (!result.ok) expect(result.errors).toContainEqual(expect.objectContaining({ code: 'MISSING_FIELD', path: `/${key}` }))
      }),
    )
  })
})
