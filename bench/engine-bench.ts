import { createEngine, createTaskRegistry, defineTask, type Flow, type FlowRecord, type Store } from '../src/index.js'
import { chainFlow, now, type BenchOptions, type BenchRow } from './bench-kit.js'

const noop = (): Promise<undefined> | undefined => undefined

/**
 * A store that records nothing, so that the figure is the engine's own cost per transition:
 * routing, context, result normalization and bookkeeping.
 */
function nullStore(flow: Flow): Store {
  const record: FlowRecord & { created: boolean } = { id: flow.id, version: 1, definitionHash: 'bench', flow, createdAt: 0, created: true }
  const none = (): Promise<undefined> => Promise.resolve(undefined)
  return {
    kind: 'memory',
    write: () => undefined,
    putDefinition: () => Promise.resolve(),
    getDefinition: () => Promise.resolve(flow),
    registerFlow: () => Promise.resolve({ ...record, created: true }),
    getFlow: () => Promise.resolve(record),
    listFlows: () => Promise.resolve({ items: [record], nextCursor: null }),
    getExecution: none,
    getExecutionRecord: none,
    listTaskRuns: () => Promise.resolve([]),
    getTaskRun: none,
    loadForRecovery: none,
    findExecutionByIdempotencyKey: none,
    listExecutions: () => Promise.resolve({ items: [], nextCursor: null }),
    claim: () => Promise.resolve([]),
    nextWake: () => Promise.resolve(null),
    heartbeat: () => Promise.resolve({ cancelRequested: [], pokes: [] }),
    release: () => Promise.resolve(),
    beat: () => Promise.resolve(),
    listNodes: () => Promise.resolve([]),
    removeNode: () => Promise.resolve(),
    listLeaseOwners: () => Promise.resolve([]),
    requestCancel: () => Promise.resolve(),
    poke: () => Promise.resolve(),
    addSignal: () => Promise.resolve('not_found' as const),
    pendingSignals: () => Promise.resolve([]),
    listChildren: () => Promise.resolve([]),
    latestResults: () => Promise.resolve([]),
    listEvents: () => Promise.resolve([]),
    countQueued: () => Promise.resolve(0),
    statuses: () => Promise.resolve(new Map()),
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }
}

/** Engine overhead per task transition with no-op tasks and no recording, vs awaiting the no-op directly. */
export async function engineBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const tasksPerFlow = 100
  const executions = quick ? 500 : 10_000
  const total = tasksPerFlow * executions
  const flow = chainFlow(tasksPerFlow, 'nop')
  const engine = createEngine({ store: nullStore(flow), maxConcurrent: Infinity, tasks: createTaskRegistry([defineTask({ name: 'nop', description: 'no-op', run: noop })]) })

  const runAll = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) await engine.run({ flowId: flow.id })
  }
  const baseline = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) await noop()
  }
  await runAll(Math.min(200, executions))
  await baseline(total)

  const t0 = now()
  await baseline(total)
  const baseNs = ((now() - t0) * 1e6) / total
  const t1 = now()
  await runAll(executions)
  const oursNs = ((now() - t1) * 1e6) / total
  return [
    {
      name: `engine overhead per transition (${tasksPerFlow}-task chain, no recording)`,
      value: oursNs,
      unit: 'ns',
      baseline: { name: 'await noop() loop', value: baseNs },
      better: 'lower',
      goal: '< 1000 ns',
    },
  ]
}
