import { describe, expect, it } from 'vitest'
import { normalizeTaskOutput, toFailure } from '../../src/core/task-result.js'

const MAX = 1024

describe('normalizeTaskOutput', () => {
  it('counts plain data as success and serializes it once', () => {
    const data = { records: [1, 2, 3], nested: { ok: true } }
    expect(normalizeTaskOutput(data, MAX)).toEqual({ result: { status: 'success', data }, dataJson: JSON.stringify(data) })
  })

  it.each([0, '', false, null, 'text', [1, 'a']])('counts the plain value %j as success data', (value) => {
    expect(normalizeTaskOutput(value, MAX)).toEqual({ result: { status: 'success', data: value }, dataJson: JSON.stringify(value) })
  })

  it('counts undefined as success with no data', () => {
    expect(normalizeTaskOutput(undefined, MAX)).toEqual({ result: { status: 'success' }, dataJson: undefined })
  })

  it('takes a {status: "success", data} envelope as it is', () => {
    expect(normalizeTaskOutput({ status: 'success', data: { n: 1 } }, MAX)).toEqual({ result: { status: 'success', data: { n: 1 } }, dataJson: '{"n":1}' })
    expect(normalizeTaskOutput({ status: 'success' }, MAX)).toEqual({ result: { status: 'success' }, dataJson: undefined })
  })

  it('takes a {status: "failure", error} envelope as a failure with that message and keeps its data', () => {
    const out = normalizeTaskOutput({ status: 'failure', error: 'upstream said no', data: { tried: 2 } }, MAX)
    expect(out).toEqual({ result: { status: 'failure', error: { message: 'upstream said no' }, data: { tried: 2 } }, dataJson: '{"tried":2}' })
  })

  it('gives a failure envelope without an error a message that says the task reported failure', () => {
    const out = normalizeTaskOutput({ status: 'failure' }, MAX)
    expect(out.result).toEqual({ status: 'failure', error: { message: 'the task reported failure' } })
  })

  it('keeps name, message and stack of an Error in a failure envelope', () => {
    const out = normalizeTaskOutput({ status: 'failure', error: new TypeError('bad thing') }, MAX)
    expect(out.result.status).toBe('failure')
    if (out.result.status !== 'failure') return
    expect(out.result.error).toMatchObject({ message: 'bad thing', name: 'TypeError' })
    expect(out.result.error.stack).toContain('bad thing')
  })

  it('treats an object whose status is another word as plain data', () => {
    const value = { status: 'pending', data: 1 }
    expect(normalizeTaskOutput(value, MAX).result).toEqual({ status: 'success', data: value })
  })

  it.each([
    ['a function', () => 1, 'function'],
    ['a bigint', 10n, 'bigint'],
    ['a symbol', Symbol('s'), 'symbol'],
  ])('fails with RESULT_INVALID when the task returns %s', (_label, value, kind) => {
    const out = normalizeTaskOutput(value, MAX)
    expect(out.dataJson).toBeUndefined()
    expect(out.result).toMatchObject({ status: 'failure', error: { code: 'RESULT_INVALID', retryable: false } })
    if (out.result.status === 'failure') expect(out.result.error.message).toContain(`returned a ${kind}`)
  })

  it('fails with RESULT_INVALID when the data holds a bigint deep inside', () => {
    const out = normalizeTaskOutput({ status: 'success', data: { deep: { n: 1n } } }, MAX)
    expect(out.result).toMatchObject({ status: 'failure', error: { code: 'RESULT_INVALID' } })
    if (out.result.status === 'failure') expect(out.result.error.message).toContain('cannot be stored as JSON')
  })

  it('fails with RESULT_INVALID when the data is circular', () => {
    const circular: Record<string, unknown> = { name: 'loop' }
    circular.self = circular
    const out = normalizeTaskOutput(circular, MAX)
    expect(out.result).toMatchObject({ status: 'failure', error: { code: 'RESULT_INVALID' } })
  })

  it('fails with DATA_TOO_LARGE, not retryable, when the serialized data is over maxBytes, saying how big it was', () => {
    const big = { text: 'x'.repeat(MAX) }
    const out = normalizeTaskOutput(big, MAX)
    expect(out.result).toMatchObject({ status: 'failure', error: { code: 'DATA_TOO_LARGE', retryable: false } })
    if (out.result.status === 'failure') expect(out.result.error.message).toContain(`${JSON.stringify(big).length} bytes of data, over the data limit of ${MAX} (FLOW_MANAGER_DATA_LIMIT)`)
  })

  it('accepts data of exactly maxBytes', () => {
    const text = 'x'.repeat(MAX - 2)
    expect(normalizeTaskOutput(text, MAX).result.status).toBe('success')
  })

  it('counts bytes, not UTF-16 code units, against maxBytes', () => {
    // 400 three-byte characters: 1,202 bytes of JSON in 402 code units.
    const out = normalizeTaskOutput('€'.repeat(400), MAX)
    expect(out.result.status).toBe('failure')
  })
})

describe('toFailure', () => {
  it('keeps message, name, stack, code and retryable of an Error', () => {
    const error = Object.assign(new Error('nope'), { code: 'E_NOPE', retryable: false })
    expect(toFailure(error, 'fallback')).toEqual({ message: 'nope', name: 'Error', stack: error.stack, code: 'E_NOPE', retryable: false })
  })

  it.each([
    [new Error(''), 'fallback'],
    ['', 'fallback'],
    [undefined, 'fallback'],
    [null, 'fallback'],
    ['plain words', 'plain words'],
    [{ reason: 'x' }, '{"reason":"x"}'],
    [42, '42'],
  ])('turns %j into a failure with message %j', (thrown, message) => {
    expect(toFailure(thrown, 'fallback').message).toBe(message)
  })

  it('describes a thrown value that is not JSON without throwing', () => {
    const circular: Record<string, unknown> = {}
    circular.self = circular
    expect(toFailure(circular, 'fallback').message).toBe('[object Object]')
    expect(toFailure(5n, 'fallback').message).toBe('[object BigInt]')
  })

  it('shortens a huge thrown value to 2,000 characters and an ellipsis', () => {
    expect(toFailure({ text: 'y'.repeat(5000) }, 'fallback').message).toHaveLength(2001)
  })
})

describe('normalizeTaskOutput byte counting', () => {
  it.each([
    ['ascii', 'a'],
    ['two-byte', 'é'],
    ['three-byte', '€'],
    ['four-byte (surrogate pair)', '😀'],
  ])('measures %s text in UTF-8 bytes, as Buffer.byteLength does', (_label, unit) => {
    const text = unit.repeat(100)
    const bytes = Buffer.byteLength(JSON.stringify(text))
    expect(normalizeTaskOutput(text, bytes).result.status).toBe('success')
    expect(normalizeTaskOutput(text, bytes - 1).result.status).toBe('failure')
  })
})
