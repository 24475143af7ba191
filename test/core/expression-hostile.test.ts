import { describe, expect, it } from 'vitest'
import { compileExpression, type Evaluation } from '../../src/core/expression.js'
import { compileInput, renderInput } from '../../src/core/input-mapping.js'

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
