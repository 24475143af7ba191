import { afterEach, describe, expect, it } from 'vitest'
import { parseFlow } from '../../src/core/parse-flow.js'
import { builtinRegistry, FLOWS_DIR, seedFlow } from '../fixtures/flows.js'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const flowWith = (tasks: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'f',
  name: 'F',
  start_task: 't0',
  tasks,
  conditions: [],
  ...extra,
})

afterEach(() => {
  // A test that polluted Object.prototype must not hide it from the next one.
  delete (Object.prototype as Record<string, unknown>).polluted
})

describe('parseFlow', () => {
  it('accepts the seed flow with and without the envelope and returns the same flow', () => {
    const enveloped = parseFlow(seedFlow(), { taskTypes: builtinRegistry })
    const bare = parseFlow(seedFlow().flow, { taskTypes: builtinRegistry })
    expect(enveloped.ok && bare.ok).toBe(true)
    if (!enveloped.ok || !bare.ok) return
    expect(enveloped.flow).toEqual(bare.flow)
    expect(enveloped.flow.tasks.map((t) => t.name)).toEqual(['task1', 'task2', 'task3'])
  })

  it('reports paths inside the envelope with a /flow prefix and bare paths without it', () => {
    const flow = { ...seedFlow().flow, start_task: 'nope' }
    const bare = parseFlow(flow)
    const enveloped = parseFlow({ flow })
    expect(bare.ok ? [] : bare.errors.map((e) => e.path)).toEqual(['/start_task'])
    expect(enveloped.ok ? [] : enveloped.errors.map((e) => e.path)).toEqual(['/flow/start_task'])
  })

  it('skips the task type check when no registry is given', () => {
    expect(parseFlow(flowWith([{ name: 't0', type: 'not-registered' }])).ok).toBe(true)
  })

  it('reports an unregistered task type as a warning, and accepts the flow, when asked to', () => {
    const flow = flowWith([{ name: 't0', type: 'noop' }, { name: 'taskX' }], { start_task: 'taskX' })
    const strict = parseFlow(flow, { taskTypes: builtinRegistry })
    expect(strict.ok ? [] : strict.errors.map((e) => [e.code, e.path])).toEqual([['UNKNOWN_TASK_TYPE', '/tasks/1/name']])
    const lenient = parseFlow(flow, { taskTypes: builtinRegistry, unregisteredTypes: 'warning' })
    expect(lenient.ok).toBe(true)
    expect(lenient.warnings).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'UNKNOWN_TASK_TYPE', path: '/tasks/1/name', message: expect.stringContaining('fails with TASK_TYPE_NOT_REGISTERED when it runs') })]))
    const broken = parseFlow({ ...flow, start_task: 'nope' }, { taskTypes: builtinRegistry, unregisteredTypes: 'warning' })
    expect(broken.ok ? [] : broken.errors.map((e) => e.code)).toEqual(['UNKNOWN_START_TASK'])
    expect(broken.warnings.map((w) => w.code)).toEqual(['UNKNOWN_TASK_TYPE'])
  })

  it('escapes "/" and "~" in the JSON pointer of an unknown key', () => {
    const result = parseFlow({ ...seedFlow().flow, 'a/b~c': 1 })
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(['/a~1b~0c'])
  })

  it('accepts a flow of 10,000 tasks in a chain', () => {
    const n = 10_000
    const tasks = Array.from({ length: n }, (_, i) => ({ name: `t${i}`, type: 'noop' }))
    const conditions = Array.from({ length: n - 1 }, (_, i) => ({
      name: `c${i}`, source_task: `t${i}`, outcome: 'success', target_task_success: `t${i + 1}`, target_task_failure: 'end',
    }))
    const result = parseFlow(flowWith(tasks, { conditions }), { taskTypes: builtinRegistry })
    expect(result.ok).toBe(true)
    expect(result.warnings).toEqual([])
  })

  it('keeps deeply nested task input intact', () => {
    let input: Record<string, unknown> = { leaf: true }
    for (let i = 0; i < 2000; i++) input = { level: i, child: input }
    const result = parseFlow(flowWith([{ name: 't0', type: 'noop', input }]), { taskTypes: builtinRegistry })
    expect(result.ok).toBe(true)
    if (result.ok) expect(result.flow.tasks[0]?.input).toEqual(input)
  })
})

describe('parseFlow with __proto__ and constructor', () => {
  const protoFlow = (): unknown => JSON.parse(readFileSync(join(FLOWS_DIR, 'valid', 'proto-names.json'), 'utf8'))

  it('accepts tasks and conditions named __proto__ and constructor as plain names', () => {
    const result = parseFlow(protoFlow(), { taskTypes: builtinRegistry })
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.flow.tasks.map((t) => t.name)).toEqual(['__proto__', 'constructor', 'toString'])
    expect(result.flow.conditions.map((c) => c.name)).toEqual(['__proto__', 'constructor'])
    expect(result.flow.start_task).toBe('__proto__')
  })

  it('keeps a __proto__ key of a task input as data without polluting Object.prototype', () => {
    const result = parseFlow(protoFlow(), { taskTypes: builtinRegistry })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    if (!result.ok) throw new Error('expected the flow to be valid')
    const input = result.flow.tasks[0]!.input!
    expect(Object.getPrototypeOf(input)).toBe(Object.prototype)
    expect(Object.hasOwn(input, '__proto__')).toBe(true)
    expect(Object.getOwnPropertyDescriptor(input, '__proto__')?.value).toEqual({ polluted: true })
    expect(JSON.parse(JSON.stringify(result.flow.tasks[0]))).toEqual(JSON.parse(JSON.stringify((protoFlow() as { tasks: unknown[] }).tasks[0])))
    expect((input).polluted).toBeUndefined()
  })

  it('rejects __proto__ as a key of the flow, a task or the envelope as an unknown key', () => {
    const doc = JSON.parse('{"flow": {"id":"f","name":"F","start_task":"a","tasks":[{"name":"a","__proto__":{"type":"x"}}],"conditions":[],"__proto__":{"max_steps":0}}, "__proto__": {}}')
    const result = parseFlow(doc)
    expect(result.ok ? [] : result.errors.map((e) => `${e.code} ${e.path}`).sort()).toEqual([
      'UNKNOWN_KEY /__proto__',
      'UNKNOWN_KEY /flow/__proto__',
      'UNKNOWN_KEY /flow/tasks/0/__proto__',
    ])
    expect(({} as Record<string, unknown>).max_steps).toBeUndefined()
  })

  it('does not treat inherited members such as toString as tasks', () => {
    const result = parseFlow(flowWith([{ name: 't0', type: 'noop' }], { start_task: 'toString' }))
    expect(result.ok ? [] : result.errors.map((e) => e.code)).toEqual(['UNKNOWN_START_TASK'])
  })
})
