import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pino } from 'pino'
import { createEngine } from '../src/engine/engine.js'
import { toExecutionView } from '../src/engine/execution-view.js'
import { buildApp } from '../src/http/app.js'
import { openStore } from '../src/store/open-store.js'
import { builtinTasks } from '../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../src/tasks/define-task.js'
import { withTempDir, type BenchOptions, type BenchRow } from './bench-kit.js'

const SEED = {
  id: 'flow123',
  name: 'Data processing flow',
  start_task: 'task1',
  tasks: [{ name: 'task1' }, { name: 'task2' }, { name: 'task3' }],
  conditions: [
    { name: 'c1', source_task: 'task1', outcome: 'success', target_task_success: 'task2', target_task_failure: 'end' },
    { name: 'c2', source_task: 'task2', outcome: 'success', target_task_success: 'task3', target_task_failure: 'end' },
  ],
}

interface Load {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
}

/** Runs autocannon's CLI in a child process, so that the load generator is not the server's event loop. */
function autocannon(url: string, options: { seconds: number; method?: 'GET' | 'POST'; body?: string }): Promise<Load> {
  const bin = join(dirname(createRequire(import.meta.url).resolve('autocannon/package.json')), 'autocannon.js')
  const args = [bin, '--json', '-c', '50', '-d', String(options.seconds), '-m', options.method ?? 'GET']
  if (options.body !== undefined) args.push('-H', 'content-type=application/json', '-b', options.body)
  args.push(url)
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error !== null) {
        reject(new Error(`autocannon failed: ${error.message}`, { cause: error }))
        return
      }
      const result = JSON.parse(stdout) as { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number }
      resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx })
    })
  })
}

function rows(name: string, ours: Load, bare: Load, goal: string): BenchRow[] {
  if (ours.errors > 0 || bare.errors > 0) throw new Error(`${name}: ${ours.errors + bare.errors} failed or non-2xx responses under load`)
  return [
    { name: `${name} rate`, value: ours.rps, unit: 'req/s', baseline: { name: 'bare route, canned execution', value: bare.rps }, better: 'higher', goal },
    { name: `${name} p50`, value: ours.p50, unit: 'ms', baseline: { name: 'bare route', value: bare.p50 }, better: 'lower' },
    { name: `${name} p99`, value: ours.p99, unit: 'ms', baseline: { name: 'bare route', value: bare.p99 }, better: 'lower', ...(name.startsWith('POST') ? { goal: '< 20 ms' } : {}) },
  ]
}

/**
 * The two HTTP benchmarks of issue 4, against a real server on 127.0.0.1 with a file-backed SQLite
 * database (synchronous=FULL): POST /api/v1/executions running the seed flow synchronously, and
 * GET /api/v1/executions/{id}, each beside a bare route on the same server that answers a canned
 * execution (the HTTP ceiling). `quick` runs each load for about one second.
 */
export async function httpBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  return withTempDir(async (dir) => {
    const store = await openStore(`sqlite:${join(dir, 'bench.db')}`)
    const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
    const app = await buildApp({ engine, logger: pino({ level: 'warn' }) })
    const sample = await engine.run({ flow: SEED })
    const canned = JSON.stringify(toExecutionView(sample))
    app.get('/bench/bare', (_request, reply) => reply.type('application/json').send(canned))
    app.post('/bench/bare', (_request, reply) => reply.type('application/json').send(canned))
    const base = await app.listen({ host: '127.0.0.1', port: 0 })
    const seconds = quick ? 1 : 10
    const body = JSON.stringify({ flow: SEED })
    try {
      // A short warm-up, so that JIT and SQLite caches do not count against the first figure.
      await autocannon(`${base}/api/v1/executions`, { seconds: 1, method: 'POST', body })
      const bareGet = await autocannon(`${base}/bench/bare`, { seconds })
      const post = await autocannon(`${base}/api/v1/executions`, { seconds, method: 'POST', body })
      const barePost = await autocannon(`${base}/bench/bare`, { seconds, method: 'POST', body })
      const get = await autocannon(`${base}/api/v1/executions/${sample.execution.id}`, { seconds })
      return [
        ...rows('POST /api/v1/executions (seed flow, sync, SQLite)', post, barePost, '≥ 0.40× bare'),
        ...rows('GET /api/v1/executions/{id}', get, bareGet, '≥ 0.70× bare'),
      ]
    } finally {
      await app.close()
      await engine.close({ graceMs: 1000 })
      await store.close()
    }
  })
}
