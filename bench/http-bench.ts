import { join } from 'node:path'
import { median, seedDocument, withTempDir, type BenchOptions, type BenchRow } from './bench-kit.js'
import { captureSteps, rawSameRows } from './sqlite-raw.js'
import { autocannon, type Load } from './load.js'
import { distMissing, startBare, startServe, warnIfDistStale, type ServerProcess } from './processes.js'

interface Rounds {
  readonly ours: Load[]
  readonly bare: Load[]
}

function rows(name: string, { ours, bare }: Rounds, rateGoal: string): BenchRow[] {
  const failed = [...ours, ...bare].reduce((sum, load) => sum + load.errors, 0)
  if (failed > 0) throw new Error(`${name}: ${failed} failed or non-2xx responses under load`)
  const of = (loads: readonly Load[], key: keyof Load): number => median(loads.map((l) => l[key]))
  const rounds = ours.length > 1 ? `, median of ${ours.length} rounds` : ''
  return [
    { name: `${name}: rate${rounds}`, value: of(ours, 'rps'), unit: 'req/s', baseline: { name: 'bare Fastify route, own process', value: of(bare, 'rps') }, better: 'higher', goal: rateGoal },
    { name: `${name}: p50`, value: of(ours, 'p50'), unit: 'ms', baseline: { name: 'bare route', value: of(bare, 'p50') }, better: 'lower' },
    { name: `${name}: p99`, value: of(ours, 'p99'), unit: 'ms', baseline: { name: 'bare route', value: of(bare, 'p99') }, better: 'lower', goal: '≤ 2× bare' },
  ]
}

/**
 * The most executions of the seed flow per second that SQLite can record on this machine, with
 * nothing else running: the engine's own steps for one execution, replayed by the store's own
 * statements for 5,000 executions, 50 steps per commit (about what 50 connections give the group commit).
 */
async function postLimit(dir: string, quick: boolean): Promise<{ executionsPerSecond: number; steps: number }> {
  const template = await captureSteps(dir, seedDocument().flow)
  const executions = quick ? 500 : 5000
  const rate = await rawSameRows(join(dir, 'post-limit.db'), template, executions, 50)
  // rawSameRows counts a flow of n tasks as n transitions in n + 1 steps.
  return { executionsPerSecond: rate.perSecond / (template.length - 1), steps: template.length }
}

/** Loads our server and the bare one in turn (A B A B…), so that a busy moment of the machine weighs on both. */
async function alternate(rounds: number, ours: () => Promise<Load>, bare: () => Promise<Load>): Promise<Rounds> {
  const result: Rounds = { ours: [], bare: [] }
  for (let i = 0; i < rounds; i++) {
    result.ours.push(await ours())
    result.bare.push(await bare())
  }
  return result
}

/**
 * What a user of the HTTP API gets, beside what a bare Fastify route gives on the same machine:
 * our real `flow-manager serve` process (dist/, default settings: logs at info, a SQLite file with
 * synchronous=FULL) and bench/bare-server.ts in a process of its own, answering the same execution
 * JSON, both loaded by autocannon in a third process, in alternating rounds. POST runs the seed
 * flow inline and synchronously (the answer is the finished, recorded execution); GET reads one.
 */
export async function httpBench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const missing = distMissing()
  if (missing !== undefined) return [{ name: `HTTP benchmarks skipped: ${missing}`, value: Number.NaN, unit: '' }]
  warnIfDistStale()
  return withTempDir(async (dir) => {
    const servers: ServerProcess[] = []
    try {
      const serve = await startServe(join(dir, 'serve.db'))
      servers.push(serve)
      const body = JSON.stringify(seedDocument())
      const sample = await fetch(`${serve.url}/api/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      const canned = await sample.text()
      if (sample.status !== 200) throw new Error(`POST /api/v1/executions answered ${sample.status}: ${canned}`)
      const bare = await startBare(canned)
      servers.push(bare)
      const getPath = `/api/v1/executions/${(JSON.parse(canned) as { execution_id: string }).execution_id}`

      const seconds = quick ? 1 : 5
      const rounds = quick ? 1 : 3
      const post = (url: string, s = seconds): Promise<Load> => autocannon(`${url}/api/v1/executions`, { seconds: s, method: 'POST', body })
      const get = (url: string, s = seconds): Promise<Load> => autocannon(`${url}${getPath}`, { seconds: s })
      // Warm-up, so that JIT compilation and SQLite's first pages do not count against the first round.
      await post(serve.url, 1)
      if (!quick) {
        await get(serve.url, 1)
        await post(bare.url, 1)
      }
      const posts = await alternate(rounds, () => post(serve.url), () => post(bare.url))
      const gets = await alternate(rounds, () => get(serve.url), () => get(bare.url))
      if (serve.errors.length > 0) throw new Error(`serve logged ${serve.errors.length} errors under load, e.g. ${serve.errors[0]}`)
      await Promise.all(servers.splice(0).map((server) => server.stop()))
      const logged = await startBare(canned, true)
      servers.push(logged)
      const loggedGets: Load[] = []
      for (let i = 0; i < rounds; i++) loggedGets.push(await get(logged.url))
      const limit = await postLimit(dir, quick)
      const bareRps = median(posts.bare.map((l) => l.rps))
      const bareGet = median(gets.bare.map((l) => l.rps))
      return [
        ...rows('POST /api/v1/executions, seed flow inline, synchronous, SQLite FULL', posts, '≥ 0.40× bare'),
        {
          name: `  its physical limit: raw SQLite writes of the same rows (the seed flow's ${limit.steps} steps per execution, 50 steps per commit, no HTTP, no engine)`,
          value: limit.executionsPerSecond,
          unit: 'executions/s',
          baseline: { name: 'bare Fastify route, own process', value: bareRps },
          better: 'higher',
        },
        ...rows('GET /api/v1/executions/{id}', gets, '≥ 0.70× bare'),
        {
          name: '  the bare route with Fastify\'s default request logs at info (two lines per request to a pipe)',
          value: median(loggedGets.map((l) => l.rps)),
          unit: 'req/s',
          baseline: { name: 'bare Fastify route, own process', value: bareGet },
          better: 'higher',
        },
      ]
    } finally {
      await Promise.all(servers.map((s) => s.stop()))
    }
  })
}
