import type { Environment } from '@marcbachmann/cel-js'

/**
 * Numbers in expressions behave as in JSON and JavaScript, where there is one number type. CEL
 * has three (int, uint, double) and no arithmetic across them: a JSON number is a double, a
 * literal `2` an int, so `results.a.data.n * 2` would be "no such overload". Here:
 * - arithmetic across int and double gives a double (`n * 2` is 42, `n + 0.5` is 21.5);
 * - `/` gives the exact quotient (`21 / 2` is 10.5; `20 / 2` stays the int 10);
 * - int arithmetic that leaves the 64-bit range goes on in doubles instead of failing;
 * - comparisons work across int and double (`2 == 2.0`);
 * - dividing by zero, or taking a remainder by zero, is an error, never Infinity.
 * Integers stay CEL ints where they can, so that `substring(0, 3)` and `list[1]` keep working.
 */

export const isNumber = (value: unknown): value is number | bigint => typeof value === 'number' || typeof value === 'bigint'

const MAX_INT = 2n ** 63n - 1n
const MIN_INT = -(2n ** 63n)

function exactOr(value: bigint, fallback: () => number): number | bigint {
  return value > MAX_INT || value < MIN_INT ? fallback() : value
}

function byZero(op: string): Error {
  return new Error(op === '%' ? 'modulo by zero' : 'division by zero')
}

/** `l op r` for + - * / % on two numbers, JSON-style (see above). */
export function jsonArithmetic(op: string, l: number | bigint, r: number | bigint): number | bigint {
  if (typeof l === 'bigint' && typeof r === 'bigint') {
    switch (op) {
      case '+':
        return exactOr(l + r, () => Number(l) + Number(r))
      case '-':
        return exactOr(l - r, () => Number(l) - Number(r))
      case '*':
        return exactOr(l * r, () => Number(l) * Number(r))
      case '/':
        if (r === 0n) throw byZero(op)
        return l % r === 0n ? exactOr(l / r, () => Number(l) / Number(r)) : Number(l) / Number(r)
      default:
        if (r === 0n) throw byZero(op)
        return l % r
    }
  }
  const x = Number(l)
  const y = Number(r)
  switch (op) {
    case '+':
      return x + y
    case '-':
      return x - y
    case '*':
      return x * y
    case '/':
      if (y === 0) throw byZero(op)
      return x / y
    default:
      if (y === 0) throw byZero(op)
      return x % y
  }
}

/**
 * Declares the mixed int/double operators so that expressions such as `1 + 0.5` or `2 == 2.0`
 * pass type checking. At run time the metered operators compute every numeric case themselves.
 */
export function registerJsonNumbers(env: Environment): Environment {
  let out = env
  for (const op of ['+', '-', '*', '/', '%'] as const) {
    const handler = (l: number | bigint, r: number | bigint): number | bigint => jsonArithmetic(op, l, r)
    out = out.registerOperator(`int ${op} double: double`, handler).registerOperator(`double ${op} int: double`, handler)
  }
  return out
    .registerOperator('double % double: double', (l: number, r: number) => jsonArithmetic('%', l, r))
    .registerOperator('int == double', (l: number | bigint, r: number | bigint) => numbersEqual(l, r))
}

/** Equality of two numbers of either kind, exact across them (`2 == 2.0`, `2 != 2.5`). */
export function numbersEqual(l: number | bigint, r: number | bigint): boolean {
   
  return l == r
}
