import { createHash } from 'node:crypto'
import { FlowManagerError, type Issue } from '../core/errors.js'
import type { Flow } from '../core/flow-schema.js'
import { parseFlow, type ParseFlowResult } from '../core/parse-flow.js'
import { compileFlow, type FlowPlan } from '../core/plan.js'
import type { FlowRecord, RegisteredFlow, Store } from '../store/store.js'
import type { TaskRegistry } from '../tasks/define-task.js'
import type { Clock } from './timers.js'

const CACHE_SIZE = 1000

/** Which flow to run: an inline definition (validated first) or a registered flow id. */
export type FlowSource =
  | {
      readonly flow: unknown
      /** Accept task types that are not registered: such a task fails when it runs (the seed-compatible routes want this). */
      readonly allowUnregisteredTypes?: boolean
    }
  | { readonly flowId: string; readonly version?: number }

export interface ResolvedFlow {
  readonly plan: FlowPlan
  readonly hash: string
  readonly version: number | null
}

/** An LRU map of at most CACHE_SIZE entries. */
function remember<K, V>(map: Map<K, V>, key: K, value: V): V {
  if (map.size >= CACHE_SIZE) map.delete(map.keys().next().value as K)
  map.set(key, value)
  return value
}

/**
 * Flows from definitions to compiled plans: validates inline flows (once per distinct text),
 * finds registered ones (their latest version cached for `cacheMs`), and compiles each definition
 * once per content hash.
 */
export function createFlowResolver(deps: { readonly store: Store; readonly tasks: TaskRegistry; readonly clock: Clock; readonly cacheMs: number; readonly dataLimit: number }) {
  const { store, tasks, clock, cacheMs } = deps
  const plans = new Map<string, FlowPlan>()
  const latest = new Map<string, { readonly record: FlowRecord; readonly until: number }>()
  const inline = new Map<string, { readonly flow: Flow; readonly hash: string }>()

  const validate = (json: unknown, allowUnregisteredTypes = false): ParseFlowResult =>
    parseFlow(json, allowUnregisteredTypes ? { taskTypes: tasks, unregisteredTypes: 'warning' } : { taskTypes: tasks })

  const accept = (json: unknown, allowUnregisteredTypes = false): Flow => {
    const parsed = validate(json, allowUnregisteredTypes)
    if (!parsed.ok) {
      const first = parsed.errors[0]
      const more = parsed.errors.length > 1 ? ` (and ${parsed.errors.length - 1} more)` : ''
      // The path is left to `issues`: callers re-root it (the HTTP API under /flow), the message stays true.
      throw new FlowManagerError('FLOW_INVALID', `the flow is invalid: ${first?.message ?? ''}${more}`, { issues: parsed.errors })
    }
    return parsed.flow
  }

  const hashOf = (flow: Flow): string => createHash('sha256').update(JSON.stringify(flow)).digest('base64url')

  const planFor = (flow: Flow, hash: string): FlowPlan => plans.get(hash) ?? remember(plans, hash, compileFlow(flow, { dataLimit: deps.dataLimit }))

  const latestFlow = async (id: string): Promise<FlowRecord | undefined> => {
    const cached = latest.get(id)
    const at = clock.monotonic()
    if (cached !== undefined && cached.until > at) return cached.record
    const record = await store.getFlow(id)
    if (record !== undefined && cacheMs > 0) remember(latest, id, { record, until: at + cacheMs })
    return record
  }

  /**
   * Sub-flows named by constant flow ids must exist, and must not call back into the flow (a cycle).
   * `json` is the document as given: its issues point into it, under "/flow" for an envelope.
   */
  const checkSubflows = async (flow: Flow, json: unknown): Promise<void> => {
    const base = typeof json === 'object' && json !== null && Object.hasOwn(json, 'flow') ? '/flow' : ''
    const issues: Issue[] = []
    const seen = new Set<string>([flow.id])
    const targetsOf = (f: Flow): { id: string; i: number }[] =>
      f.tasks.flatMap((task, i) => {
        const id = (task.type ?? task.name) === 'subflow' ? task.input?.flow_id : undefined
        return typeof id === 'string' && !id.includes('${') ? [{ id, i }] : []
      })
    for (const { id, i } of targetsOf(flow)) {
      const path = `${base}/tasks/${i}/input/flow_id`
      if (id === flow.id) {
        issues.push({ code: 'SUBFLOW_CYCLE', path, message: `task "${flow.tasks[i]?.name ?? ''}" runs flow "${id}" itself as a sub-flow: a cycle that would nest without end` })
        continue
      }
      const target = await latestFlow(id)
      if (target === undefined) {
        issues.push({ code: 'UNKNOWN_SUBFLOW', path, message: `task "${flow.tasks[i]?.name ?? ''}" runs flow "${id}" as a sub-flow, but no flow "${id}" is registered` })
        continue
      }
      // Walk the registered flows it calls (constant ids only) looking for this flow again.
      const stack = [target.flow]
      for (let f = stack.pop(); f !== undefined; f = stack.pop()) {
        for (const next of targetsOf(f)) {
          if (next.id === flow.id) {
            issues.push({ code: 'SUBFLOW_CYCLE', path, message: `task "${flow.tasks[i]?.name ?? ''}" runs flow "${id}", which leads back to "${flow.id}" through flow "${f.id}": a cycle of sub-flows` })
            stack.length = 0
            break
          }
          if (seen.has(next.id)) continue
          seen.add(next.id)
          const more = await latestFlow(next.id)
          if (more !== undefined) stack.push(more.flow)
        }
      }
    }
    if (issues.length > 0) throw new FlowManagerError('FLOW_INVALID', `the flow is invalid: ${issues[0]?.message ?? ''}`, { issues })
  }

  return {
    validate,
    accept,
    hashOf,
    checkSubflows,
    /** Registers a flow definition: validated, sub-flows checked, stored as the next version. */
    async register(json: unknown, allowUnregisteredTypes = false): Promise<RegisteredFlow> {
      const flow = accept(json, allowUnregisteredTypes)
      await checkSubflows(flow, json)
      const record = await store.registerFlow(hashOf(flow), flow, clock.now())
      if (cacheMs > 0) remember(latest, record.id, { record, until: clock.monotonic() + cacheMs })
      return record
    },
    async resolve(source: FlowSource): Promise<ResolvedFlow> {
      if ('flow' in source) {
        // The same inline flow posted again is not validated again: its text is the key.
        const key = `${source.allowUnregisteredTypes === true ? 'u' : 'r'}${JSON.stringify(source.flow)}`
        let known = inline.get(key)
        if (known === undefined) {
          const flow = accept(source.flow, source.allowUnregisteredTypes === true)
          await checkSubflows(flow, source.flow)
          const hash = hashOf(flow)
          if (!plans.has(hash)) await store.putDefinition(hash, flow)
          known = remember(inline, key, { flow, hash })
        }
        return { plan: planFor(known.flow, known.hash), hash: known.hash, version: null }
      }
      const record = source.version === undefined ? await latestFlow(source.flowId) : await store.getFlow(source.flowId, source.version)
      if (record === undefined) {
        const which = source.version === undefined ? '' : ` version ${source.version}`
        throw new FlowManagerError('FLOW_NOT_FOUND', `no flow "${source.flowId}"${which} is registered`)
      }
      return { plan: planFor(record.flow, record.definitionHash), hash: record.definitionHash, version: record.version }
    },
    /** The plan of a stored execution's definition. */
    async planOf(hash: string, executionId: string): Promise<FlowPlan> {
      const cached = plans.get(hash)
      if (cached !== undefined) return cached
      const flow = await store.getDefinition(hash)
      if (flow === undefined) throw new FlowManagerError('FLOW_NOT_FOUND', `the definition of execution "${executionId}" is missing`)
      return planFor(flow, hash)
    },
  }
}

export type FlowResolver = ReturnType<typeof createFlowResolver>
