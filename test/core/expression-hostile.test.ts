import { describe, expect, it } from 'vitest'
import { MEMORY_EXCEEDED, WORK_EXCEEDED } from '../../src/core/expression-budget.js'
import { compileExpression, type Evaluation } from '../../src/core/expression.js'
import { compileInput, renderInput } from '../../src/core/input-mapping.js'
import { compileFlow } from '../../src/core/plan.js'
import { parseFlow } from '../../src/core/parse-flow.js'
import { simulate } from '../../src/core/simulate.js'

const refused = (source: string): string => {
  const compiled = compileExpression(source, 'bool')
  if (compiled.ok) throw new Error(`"${source.slice(0, 60)}" compiled`)
  return compiled.message
}

/** Evaluates; a refusal at compile time counts as an evaluation that failed. */
const evaluate = (source: string, input: unknown): Evaluation => {
  const compiled = compileExpression(source, 'value')
  if (!compiled.ok) return { ok: false, message: compiled.message }
  return compiled.expression.evaluate({ input, results: {} })
}

describe('hostile expressions', () => {
  it('refuses deep nesting at parse time', () => {
    expect(refused(`${'('.repeat(500)}true${')'.repeat(500)}`)).toMatch(/./)
    expect(refused(`${'['.repeat(40)}1${']'.repeat(40)} == []`)).toMatch(/./)
  })

  it('refuses an expression over 2000 characters and ASTs over 200 nodes', () => {
    expect(refused('1 == 1 && '.repeat(210) + 'true')).toContain('at most 2000')
    expect(refused(Array.from({ length: 150 }, () => 'a').map(() => 'true').join('&&'))).toMatch(/./)
  })

  it('knows no process, constructor, globalThis or require', () => {
    for (const name of ['process', 'constructor', 'globalThis', 'require', 'this', 'Function']) {
      expect(refused(`${name} == null`)).toMatch(/./)
    }
  })

  it('does not reach the prototype chain of data', () => {
    for (const path of ['input.constructor', 'input.__proto__', 'input["constructor"]["constructor"]', '{}.constructor', '"x".constructor', 'input.toString']) {
      const value = evaluate(path, { a: 1 })
      expect(value.ok).toBe(false)
    }
  })

  it('has no function to call beyond CEL built-ins: method calls on data do not reach JavaScript', () => {
    for (const call of ['input.toString()', 'input.valueOf()', 'input.hasOwnProperty("a")', 'input.constructor("return 1")()', 'eval("1")']) {
      const compiled = compileExpression(call, 'value')
      if (compiled.ok) expect(compiled.expression.evaluate({ input: { a: 1 }, results: {} }).ok).toBe(false)
    }
  })

  it('lets a comprehension range over input and results', () => {
    expect(evaluate('input.l.exists(x, x == 2)', { l: [1, 2] })).toEqual({ ok: true, value: true })
    expect(evaluate('input.l.map(x, x * 2)', { l: [1, 2] })).toEqual({ ok: true, value: [2, 4] })
  })

  it('refuses regular expressions, cel.bind and nested or chained comprehensions', () => {
    expect(refused('input.s.matches("(a+)+$")')).toContain('matches()')
    expect(refused('cel.bind(a, [1, 2], size(a + a) > 1)')).toContain('cel.bind()')
    expect(refused('input.l.exists(x, input.l.exists(y, x == y))')).toMatch(/inside exists\(\)/)
    expect(refused('input.l.map(x, [x, x]).exists(y, true)')).toMatch(/inside exists\(\)/)
    expect(refused('input.l.all(x, x in input.l)')).toContain('not "input"')
  })

  it('bounds what it builds: concatenating a large input many times ends, with an error or a value', () => {
    const big = 'x'.repeat(1_000_000)
    const result = evaluate(Array.from({ length: 60 }, () => 'input.s').join(' + ') + ' == ""', { s: big })
    expect(typeof result.ok).toBe('boolean')
  })

  it('turns every evaluator error into a message, never a throw', () => {
    for (const source of ['1 / 0', 'input.l[99]', 'int("x")', 'input.missing.deeper', 'size(input) / 0']) {
      const result = evaluate(source, { l: [] })
      expect(result).toMatchObject({ ok: false })
    }
  })

  it('maps a hostile-looking input template as data, never as code', () => {
    const { mapping } = compileInput({ a: '${input.code}', b: 'say ${input.code}' })
    const rendered = renderInput(mapping!, { input: { code: '${process.exit(1)}' }, results: {} })
    expect(rendered).toEqual({ ok: true, value: { a: '${process.exit(1)}', b: 'say ${process.exit(1)}' } })
  })
})

/** The expressions issue 9 found killing or blocking the server, each stopped by the evaluation budget. */
describe('the evaluation budget', () => {
  const list = Array.from({ length: 200_000 }, (_, i) => `item-${i}`)

  it('stops twelve joins of a 200,000-item list with a 2,000-character separator (this ran the process out of heap)', () => {
    const source = `size([${Array.from({ length: 12 }, () => 'input.l.join(input.s)').join(', ')}]) > 0`
    expect(evaluate(source, { l: list, s: 'x'.repeat(2000) })).toEqual({ ok: false, message: MEMORY_EXCEEDED })
  })

  it('stops a split into characters joined with the text itself (this blocked the event loop for 14 s)', () => {
    expect(evaluate("size(input.s.split('').join(input.s))", { s: 'y'.repeat(20_000) })).toEqual({ ok: false, message: MEMORY_EXCEEDED })
  })

  it('stops a list concatenated with itself over and over', () => {
    expect(evaluate(Array.from({ length: 60 }, () => 'input.l').join(' + '), { l: list })).toEqual({ ok: false, message: MEMORY_EXCEEDED })
  })

  it('stops a comprehension whose every element raises an error that exists() absorbs (each costs microseconds)', () => {
    const objects = Array.from({ length: 100_000 }, () => ({}))
    expect(evaluate('input.o.exists(x, x.missing == 1)', { o: objects })).toEqual({ ok: false, message: WORK_EXCEEDED })
  })

  it('stops deep comparisons of large lists repeated many times', () => {
    const a = Array.from({ length: 200_000 }, (_, i) => i)
    const source = Array.from({ length: 30 }, () => 'input.a == input.b').join(' && ')
    expect(evaluate(source, { a, b: [...a] })).toEqual({ ok: false, message: WORK_EXCEEDED })
  })

  it('keeps an error that || would absorb once the budget is spent, so no answer hides the bound', () => {
    const source = `${Array.from({ length: 40 }, () => 'input.l').join(' + ')} == [] || true`
    expect(evaluate(source, { l: list })).toEqual({ ok: false, message: MEMORY_EXCEEDED })
  })

  it('searches a long text for a long repetitive pattern in linear time, with the right answer', () => {
    const text = 'a'.repeat(1_000_000)
    const pattern = `${'a'.repeat(5000)}b${'a'.repeat(5000)}`
    expect(evaluate('input.t.contains(input.p)', { t: text, p: pattern })).toEqual({ ok: true, value: false })
    expect(evaluate('input.t.lastIndexOf(input.p)', { t: text, p: pattern })).toEqual({ ok: true, value: -1n })
    expect(evaluate('size(input.t.split(input.p))', { t: text, p: pattern })).toEqual({ ok: true, value: 1n })
    expect(evaluate('input.t.indexOf(input.p)', { t: `${text}${pattern}`, p: pattern })).toEqual({ ok: true, value: 1_000_000n })
  })

  it('lets ordinary work on a 1 MB input through', () => {
    const text = 'lorem ipsum '.repeat(90_000)
    const items = Array.from({ length: 20_000 }, (_, i) => ({ sku: `s${i}`, qty: i % 7 }))
    expect(evaluate("input.text.contains('dolor') || size(input.text) > 1000", { text })).toEqual({ ok: true, value: true })
    expect(evaluate("input.items.exists(x, x.sku == 's19999')", { items })).toEqual({ ok: true, value: true })
    expect(evaluate('size(input.items.filter(x, x.qty > 3))', { items })).toEqual({ ok: true, value: 8571n })
    expect(evaluate("size(input.text.split(' '))", { text })).toEqual({ ok: true, value: 180_001n })
  })

  it('gives one budget to a whole task input, however many expressions it holds', () => {
    const big = 'z'.repeat(1_000_000)
    const { mapping } = compileInput(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, '${input.big}'])))
    expect(renderInput(mapping!, { input: { big }, results: {} })).toEqual({ ok: false, message: MEMORY_EXCEEDED })
    const text = compileInput({ t: Array.from({ length: 50 }, () => '${input.big}').join('') }).mapping!
    expect(renderInput(text, { input: { big }, results: {} })).toEqual({ ok: false, message: MEMORY_EXCEEDED })
  })

  it('gives one budget to all the cases of a condition', () => {
    const parsed = parseFlow({
      id: 'cases',
      name: 'cases',
      start_task: 'a',
      tasks: [{ name: 'a', type: 'noop' }, { name: 'b', type: 'noop' }],
      conditions: [
        {
          name: 'route',
          source_task: 'a',
          cases: Array.from({ length: 40 }, () => ({ when: 'input.l + input.l == []', target: 'b' })),
          default: 'end',
        },
      ],
    })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
    const result = simulate(compileFlow(parsed.flow), { input: { l: list }, outcomes: {}, data: {} })
    expect(result).toMatchObject({ status: 'failed', error: { code: 'CONDITION_ERROR', message: expect.stringContaining(MEMORY_EXCEEDED) } })
  })

  it('answers the same way every time: work is counted, not timed', () => {
    const source = 'input.o.exists(x, x.missing == 1)'
    const objects = Array.from({ length: 3000 }, () => ({}))
    const first = evaluate(source, { o: objects })
    for (let i = 0; i < 3; i++) expect(evaluate(source, { o: objects })).toEqual(first)
  })
})

describe('numbers as in JSON', () => {
  const n = { n: 21 }
  it.each([
    ['input.n * 2', 42],
    ['input.n + 0.5', 21.5],
    ['input.n - 1', 20],
    ['input.n / 2', 10.5],
    ['input.n % 2', 1],
    ['21 / 2', 10.5],
    ['1 + 0.5', 1.5],
    ['(21 / 2) * 2', 21],
    ['size("abc") * 1.5', 4.5],
  ])('%s is %s', (source, value) => {
    const result = evaluate(source, n)
    expect(result.ok && Number(result.value)).toBe(value)
  })

  it('keeps whole quotients integers, so that they still index lists and cut strings', () => {
    expect(evaluate('20 / 2', n)).toEqual({ ok: true, value: 10n })
    expect(evaluate("'abcdef'.substring(0, 6 / 2)", n)).toEqual({ ok: true, value: 'abc' })
    expect(evaluate('[1, 2, 3][4 / 2]', n)).toEqual({ ok: true, value: 3n })
  })

  it('compares across int and double', () => {
    for (const source of ['2 == 2.0', 'input.n == 21', 'input.n > 20', '2.5 > 2', 'size("ab") == 2.0', '21 / 2 == 10.5', 'input.l == [1, 2]']) {
      expect(evaluate(source, { ...n, l: [1.0, 2.0] })).toEqual({ ok: true, value: true })
    }
    expect(evaluate('2 != 2.0', n)).toEqual({ ok: true, value: false })
  })

  it('goes on in doubles where int arithmetic would overflow, and refuses to divide by zero', () => {
    expect(evaluate('9223372036854775807 + 1', n)).toEqual({ ok: true, value: 9223372036854775808 })
    for (const source of ['1 / 0', 'input.n / 0', 'input.n % 0', '1.5 / 0.0']) expect(evaluate(source, n)).toMatchObject({ ok: false, message: expect.stringMatching(/by zero/) })
  })
})

describe('data with any key', () => {
  const input = { c: { constructor: 'x', a: 1, inner: { constructor: { v: 2 } } }, p: JSON.parse('{"__proto__": {"v": 3}, "prototype": 4}') as unknown }

  it('reads constructor, __proto__ and prototype keys as data', () => {
    expect(evaluate('input.c.a', input)).toEqual({ ok: true, value: 1 })
    expect(evaluate('input.c.constructor', input)).toEqual({ ok: true, value: 'x' })
    expect(evaluate('input.c.inner.constructor.v', input)).toEqual({ ok: true, value: 2 })
    expect(evaluate('has(input.c.constructor) && size(input.c) == 3', input)).toEqual({ ok: true, value: true })
    expect(evaluate('input.p.__proto__.v + input.p["prototype"]', input)).toEqual({ ok: true, value: 7 })
  })

  it('maps such data into a task input unchanged, and keeps such keys in map literals', () => {
    const { mapping } = compileInput({ whole: '${input.c}', built: '${{"constructor": input.c.a, "__proto__": 5}}' })
    const rendered = renderInput(mapping!, { input, results: {} })
    expect(rendered.ok).toBe(true)
    const value = (rendered as { value: { whole: unknown; built: unknown } }).value
    expect(JSON.stringify(value.whole)).toBe(JSON.stringify(input.c))
    expect(JSON.stringify(value.built)).toBe('{"constructor":1,"__proto__":5}')
    expect(Object.getPrototypeOf(value.built)).toBe(Object.prototype)
  })

  it('reads them even where || absorbed the error they first caused', () => {
    expect(evaluate('input.c.a == 1 || input.missing', input)).toEqual({ ok: true, value: true })
  })

  it('reads them in results too', () => {
    const compiled = compileExpression('results.a.data.constructor == "y"', 'bool')
    if (!compiled.ok) throw new Error(compiled.message)
    const results = { a: { status: 'success' as const, data: { constructor: 'y' }, error: null } }
    expect(compiled.expression.evaluate({ input: {}, results })).toEqual({ ok: true, value: true })
  })
})
