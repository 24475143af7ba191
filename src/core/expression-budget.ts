/**
 * What evaluating expressions may spend: work and intermediate memory, counted by the operations
 * themselves as they run (see expression-meter.ts). Work is counted, not timed: the same
 * expression on the same data always gets the same answer, however busy the machine is, so a
 * simulation and every node of a cluster decide alike. One unit of work is about one nanosecond
 * of this evaluator on a server core of 2025; memory is an estimate in bytes of the strings,
 * lists and maps an evaluation builds (data it only reads costs nothing).
 */
export const EXPRESSION_BUDGET = { work: 100_000_000, memory: 10 * 1024 * 1024 } as const

export const WORK_EXCEEDED = 'evaluation stopped: it needs more than the 100 ms of work one evaluation may use (see "Limits" in the README)'
export const MEMORY_EXCEEDED = 'evaluation stopped: it builds more than the 10 MiB of intermediate values one evaluation may use (see "Limits" in the README)'

/**
 * The account of one decision: a condition's expressions, or every expression of one task's input.
 * Sharing it keeps a condition with many cases, or an input with many `${…}`, inside one bound.
 */
export class ExpressionBudget {
  work = 0
  memory = 0
  /** Which bound was passed, once one was: the evaluation's answer is then this error, whatever it computed. */
  exceeded: string | undefined = undefined

  /** Makes this a fresh budget again. */
  reset(): this {
    this.work = 0
    this.memory = 0
    this.exceeded = undefined
    return this
  }
}

/**
 * Thrown to stop an evaluation at once. One instance, thrown again and again: cel-js catches
 * errors inside `||`, `&&` and `exists()`/`all()` and goes on, and a new Error per throw would
 * itself cost a stack trace each time. Callers look at `budget.exceeded`, not at this object.
 */
export class BudgetExceeded extends Error {
  constructor() {
    super('expression budget exceeded')
    this.name = 'BudgetExceeded'
  }
}
export const BUDGET_EXCEEDED = new BudgetExceeded()

let active = new ExpressionBudget()

/** Makes `budget` the one charged until `leave(previous)`. Evaluation is synchronous, so one at a time. */
export function enter(budget: ExpressionBudget): ExpressionBudget {
  const previous = active
  active = budget
  return previous
}

export function leave(previous: ExpressionBudget): void {
  active = previous
}

/** Charges work and memory to the active budget; throws BUDGET_EXCEEDED past either bound, and on every call after. */
export function charge(work: number, memory: number): void {
  const budget = active
  budget.work += work
  budget.memory += memory
  if (budget.work > EXPRESSION_BUDGET.work || budget.memory > EXPRESSION_BUDGET.memory || budget.exceeded !== undefined) {
    budget.exceeded ??= budget.memory > EXPRESSION_BUDGET.memory ? MEMORY_EXCEEDED : WORK_EXCEEDED
    throw BUDGET_EXCEEDED
  }
}

/** Charges an error that cel-js caught and went on from. */
export function chargeCaught(error: unknown, cost: number): void {
  if (error !== BUDGET_EXCEEDED) charge(cost, 0)
}

/** Whether the active budget has been passed: loops that cel-js runs stop on it. */
export function exhausted(): boolean {
  return active.exceeded !== undefined
}

/** Work still available, for walks that stop as soon as they have cost too much. */
export function remainingWork(): number {
  return Math.max(0, EXPRESSION_BUDGET.work - active.work)
}
