import { advance, INITIAL_STATE, nextWake, type ExecutionError, type ExecutionStatus } from './advance.js'
import type { Decision, EngineEvent, StartRun } from './commands.js'
import type { Outcome } from './flow-schema.js'
import type { FlowPlan } from './plan.js'
import { ScopeKeeper } from './scope-keeper.js'
import type { TaskResult } from './task-result.js'

export interface SimulationOptions {
  /** The execution input expressions see. Default `{}`. */
  readonly input?: unknown
  /** How each task ends; a task not named succeeds. A failure fails every attempt, so retries are used up. */
  readonly outcomes?: Readonly<Record<string, Outcome>>
  /** The data each task returns, for conditions and input mappings that read `results.<task>.data`. */
  readonly data?: Readonly<Record<string, unknown>>
}

export interface Simulation {
  /** The task runs in the order they start, one entry per attempt (and per item), as `executed_tasks` lists them. */
  readonly path: readonly string[]
  readonly status: ExecutionStatus
  /** Steps taken (retries are not steps). */
  readonly steps: number
  readonly failedTask: string | null
  readonly error: ExecutionError | null
}

/** Most decisions one simulation makes; a flow needs more only if it loops near max_steps with large for_each lists. */
const MAX_DECISIONS = 2_000_000

/**
 * Walks a flow as an execution would, through the same `advance()`, without running any task:
 * each task run ends as `outcomes` says, with `data` as its result data, in the order the runs
 * started (branches of a group take turns). Waits, retries and timeouts take no time: the
 * simulated clock jumps to whatever is due next. Input mappings and for_each lists are evaluated
 * for real, so their errors show as they would.
 */
export function simulate(plan: FlowPlan, options: SimulationOptions = {}): Simulation {
  const outcomes = options.outcomes ?? {}
  const data = options.data ?? {}
  const keeper = new ScopeKeeper(options.input ?? {})
  const path: string[] = []
  const queue: StartRun[] = []
  let at = 0
  let decision: Decision = { state: INITIAL_STATE, commands: [] }
  const apply = (event: EngineEvent): void => {
    decision = advance(plan, decision.state, event)
    keeper.afterDecision(decision.commands)
    for (const c of decision.commands) {
      if (c.type !== 'start_run') continue
      if (c.task.group === undefined && (c.task.forEach === undefined || c.item !== null)) queue.push(c)
      path.push(c.task.name)
    }
  }
  apply({ type: 'start', at, scope: keeper.scope() })
  for (let n = 0; n < MAX_DECISIONS && decision.state.status === 'running'; n++) {
    const run = queue.shift()
    if (run === undefined) {
      const wake = nextWake(decision.state)
      if (wake === null) break
      at = Math.max(at, wake)
      apply({ type: 'timer', at, scope: keeper.scope() })
      continue
    }
    if (!keeper.open.has(run.seq)) continue
    const result = resultOf(run.task.name, outcomes, data)
    const view = { status: result.status, data: result.data ?? null, error: result.status === 'failure' ? result.error.message : null }
    keeper.beforeFinish(run.seq, view, 0)
    apply({ type: 'run_finished', at, seq: run.seq, result, scope: keeper.scope() })
  }
  const s = decision.state
  return { path, status: s.status, steps: s.steps, failedTask: s.failedTask, error: s.error }
}

function resultOf(task: string, outcomes: Readonly<Record<string, Outcome>>, data: Readonly<Record<string, unknown>>): TaskResult {
  const taskData = Object.hasOwn(data, task) ? data[task] : undefined
  if (Object.hasOwn(outcomes, task) && outcomes[task] === 'failure') {
    return taskData === undefined ? { status: 'failure', error: { message: 'simulated failure' } } : { status: 'failure', error: { message: 'simulated failure' }, data: taskData }
  }
  return taskData === undefined ? { status: 'success' } : { status: 'success', data: taskData }
}
