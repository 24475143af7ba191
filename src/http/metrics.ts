import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Engine } from '../engine/engine.js'
import { UI_PREFIX } from './routes/ui.js'

/** The label of every request for a file of the web UI: one series, however many files a build has. */
export const UI_ROUTE_LABEL = `${UI_PREFIX}*`

/**
 * The route label of a request: its route pattern (`/api/v1/executions/:id`), never the URL, so
 * that the label set stays bounded. The UI's files are registered one route per built file, whose
 * names carry content hashes that change with every build: they share one label.
 */
export function routeLabel(pattern: string | undefined): string {
  if (pattern === undefined) return 'unmatched'
  return pattern.startsWith(UI_PREFIX) ? UI_ROUTE_LABEL : pattern
}

/** The flow label of an execution: the id of a registered flow; inline flows, whose ids anyone picks, share one. */
export const flowLabel = (event: { flowId: string; flowVersion: number | null }): string => (event.flowVersion === null ? 'inline' : event.flowId)

/**
 * Prometheus metrics on a registry of this app's own, so that several apps in one process (tests,
 * embedding) never clash over the global registry. Execution metrics come from the engine's
 * events, so they count executions started by any route, the seed-compatible ones included.
 */
export function registerMetrics(app: FastifyInstance, engine: Engine): Registry {
  const registry = new Registry()
  // prom-client's default metrics already start with process_ or nodejs_.
  collectDefaultMetrics({ register: registry, prefix: 'flow_manager_' })
  const started = new Counter({
    name: 'flow_manager_executions_started_total',
    help: 'Executions started (or resumed) in this process, by registered flow id ("inline" for inline flows).',
    labelNames: ['flow_id'],
    registers: [registry],
  })
  const finished = new Counter({
    name: 'flow_manager_executions_finished_total',
    help: 'Executions that ended in this process, by registered flow id ("inline" for inline flows) and final status.',
    labelNames: ['flow_id', 'status'],
    registers: [registry],
  })
  const taskRuns = new Histogram({
    name: 'flow_manager_task_run_duration_seconds',
    help: 'Duration of task runs, by task type and status.',
    labelNames: ['task_type', 'status'],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  })
  new Gauge({
    name: 'flow_manager_executions_running',
    help: 'Executions running in this process now.',
    registers: [registry],
    collect() {
      this.set(engine.running)
    },
  })
  new Gauge({
    name: 'flow_manager_queue_depth',
    help: 'Executions recorded as queued, waiting for a worker (any node).',
    registers: [registry],
    async collect() {
      try {
        this.set(await engine.reads.countQueued())
      } catch (error) {
        // A scrape must not fail because the database is slow; the last value stays.
        app.log.warn({ err: error }, 'metrics: could not count queued executions')
      }
    },
  })
  const http = new Histogram({
    name: 'flow_manager_http_request_duration_seconds',
    help: 'HTTP request durations, by method, route pattern (the web UI\'s files as one) and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [registry],
  })

  // task_finished does not name the task type, so remember it from task_started.
  const typeOfRun = new Map<string, string>()
  const unsubscribe = engine.subscribe((event) => {
    switch (event.type) {
      case 'execution_started':
        started.inc({ flow_id: flowLabel(event) })
        break
      case 'task_started':
        typeOfRun.set(`${event.executionId}:${event.seq}`, event.taskType)
        break
      case 'task_finished': {
        const key = `${event.executionId}:${event.seq}`
        taskRuns.observe({ task_type: typeOfRun.get(key) ?? 'unknown', status: event.status }, event.durationMs / 1000)
        typeOfRun.delete(key)
        break
      }
      case 'execution_finished':
        finished.inc({ flow_id: flowLabel(event), status: event.status })
        break
    }
  })
  app.addHook('onClose', (_app, done) => {
    unsubscribe()
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    http.observe({ method: request.method, route: routeLabel(request.routeOptions.url), status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
    done()
  })
  return registry
}
