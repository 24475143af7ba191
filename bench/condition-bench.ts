import { advance, INITIAL_STATE } from '../src/core/advance.js'
import type { StartRun } from '../src/core/commands.js'
import type { ResultView } from '../src/core/expression.js'
import { parseFlow } from '../src/core/parse-flow.js'
import { compileFlow, type FlowPlan } from '../src/core/plan.js'
import type { TaskResult } from '../src/core/task-result.js'
import { chainFlow, now, type BenchOptions, type BenchRow } from './bench-kit.js'

const TASKS = 100

/** The chain flow with every condition routing on data instead of on the status. */
function whenPlan(): FlowPlan {
  const flow = chainFlow(TASKS, 'noop', 'when-chain')
  const conditions = flow.conditions.map((c) => ({
    name: c.name,
    source_task: c.source_task,
    when: `results.${c.source_task}.status == 'success' && results.${c.source_task}.data.n > 1.0`,
    target_task_success: c.target_task_success,
    target_task_failure: c.target_task_failure,
  }))
  const parsed = parseFlow({ ...flow, conditions })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
  return compileFlow(parsed.flow)
}

/** Drives `runs` executions of the plan through advance() alone; returns ns per transition. */
function drive(plan: FlowPlan, runs: number): number {
  const result: TaskResult = { status: 'success', data: { n: 2 } }
  const results: Record<string, ResultView> = Object.create(null) as Record<string, ResultView>
  const scope = { input: {}, results }
  let transitions = 0
  const t0 = now()
  for (let r = 0; r < runs; r++) {
    let d = advance(plan, INITIAL_STATE, { type: 'start', at: 0, scope })
    for (let run = d.commands.find((c): c is StartRun => c.type === 'start_run'); run !== undefined; run = d.commands.find((c): c is StartRun => c.type === 'start_run')) {
      results[run.task.name] = { status: 'success', data: result.data, error: null }
      d = advance(plan, d.state, { type: 'run_finished', at: 0, seq: run.seq, result, scope })
      transitions++
    }
  }
  return ((now() - t0) * 1e6) / transitions
}

/**
 * Routing cost per transition in the pure core: a CEL `when` condition (compiled once per plan)
 * against a plain `outcome` condition on the same chain of 100 tasks.
 */
export function conditionBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const runs = quick ? 200 : 5000
  const outcome = compileFlow(chainFlow(TASKS, 'noop', 'outcome-chain'))
  const when = whenPlan()
  drive(outcome, Math.min(runs, 200))
  drive(when, Math.min(runs, 200))
  const outcomeNs = drive(outcome, runs)
  const whenNs = drive(when, runs)
  return Promise.resolve([
    {
      name: 'routing per transition, CEL when condition',
      value: Math.round(whenNs),
      unit: 'ns',
      baseline: { name: 'outcome condition', value: Math.round(outcomeNs) },
      better: 'lower',
      goal: 'compiled once per plan: a few microseconds per transition at most',
    },
  ])
}
