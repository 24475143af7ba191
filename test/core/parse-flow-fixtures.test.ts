import { describe, expect, it } from 'vitest'
import { parseFlow } from '../../src/core/parse-flow.js'
import { builtinRegistry, expectingFlows, validFlows, type ExpectedIssue } from '../fixtures/flows.js'
import type { Issue } from '../../src/core/errors.js'
import { resolvePointer } from '../fixtures/json-pointer.js'

const ERROR_CODES = [
  'UNKNOWN_KEY', 'MISSING_FIELD', 'INVALID_TYPE', 'EMPTY_NAME', 'NO_TASKS', 'DUPLICATE_TASK', 'DUPLICATE_CONDITION',
  'RESERVED_TASK_NAME', 'RESERVED_FLOW_ID', 'UNKNOWN_START_TASK', 'UNKNOWN_SOURCE_TASK', 'UNKNOWN_TARGET_TASK',
  'DUPLICATE_SOURCE_TASK', 'INVALID_OUTCOME', 'UNKNOWN_TASK_TYPE', 'TOO_LARGE', 'INVALID_VALUE',
  'EXPRESSION_INVALID', 'UNKNOWN_RESULT_REFERENCE', 'CONFLICTING_FIELDS', 'TEXT_INVALID', 'TASK_INPUT_INVALID',
]
const WARNING_CODES = ['UNREACHABLE_TASK', 'CYCLE_WITHOUT_EXIT', 'RESULT_MAYBE_UNAVAILABLE']

const invalid = expectingFlows('invalid')
const warnings = expectingFlows('warnings')

const key = (issue: { code: string; path: string }): string => `${issue.path} ${issue.code}`

/** Exactly the expected issues, in any order; messages checked where the fixture pins them. */
function expectIssues(actual: readonly Issue[], expected: readonly ExpectedIssue[]): void {
  expect(actual.map(key).sort()).toEqual(expected.map(key).sort())
  for (const want of expected) {
    const got = actual.find((issue) => key(issue) === key(want))!
    expect(got.message.length).toBeGreaterThan(10)
    if (want.message !== undefined) expect(got.message).toBe(want.message)
    if (want.message_contains !== undefined) expect(got.message).toContain(want.message_contains)
  }
}

describe('valid flow fixtures', () => {
  it.each(validFlows())('accepts $file with no errors and no warnings', ({ document }) => {
    const result = parseFlow(document, { taskTypes: builtinRegistry })
    expect(result.ok ? [] : result.errors).toEqual([])
    expect(result.warnings).toEqual([])
  })
})

describe('invalid flow fixtures', () => {
  it.each(invalid)('rejects $file: $description', ({ document, expect: expected }) => {
    const result = parseFlow(document, { taskTypes: builtinRegistry })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expectIssues(result.errors, expected)
  })

  it('cover every error code parseFlow has', () => {
    const covered = new Set(invalid.flatMap((f) => f.expect.map((e) => e.code)))
    expect(ERROR_CODES.filter((code) => !covered.has(code))).toEqual([])
  })
})

describe('flow fixtures that run with warnings', () => {
  it.each(warnings)('accepts $file and warns: $description', ({ document, expect: expected }) => {
    const result = parseFlow(document, { taskTypes: builtinRegistry })
    expect(result.ok ? [] : result.errors).toEqual([])
    expectIssues(result.warnings, expected)
  })

  it('cover every warning code', () => {
    const covered = new Set(warnings.flatMap((f) => f.expect.map((e) => e.code)))
    expect(WARNING_CODES.filter((code) => !covered.has(code))).toEqual([])
  })
})

describe('issue paths', () => {
  it.each([...invalid, ...warnings])('are JSON pointers into the document in $file', ({ document, expect: expected }) => {
    for (const { path } of expected) expect(resolvePointer(document, path).found).toBe(true)
  })
})
