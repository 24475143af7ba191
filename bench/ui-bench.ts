import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { artifactPath, CHROMIUM, ensureUiBuilt, launchChromium, startUiServer, UI_DIST } from '../test/e2e/ui-harness.js'
import { chainFlow, type BenchOptions, type BenchRow } from './bench-kit.js'

const TASKS = 500

const gzipKb = (files: readonly string[]): number => files.reduce((sum, file) => sum + gzipSync(readFileSync(file)).length, 0) / 1024

/**
 * The web UI: the JavaScript a first page load fetches (gzip), the lazily loaded shares of ELK and
 * of the editor, and the
 * time to lay out and draw an execution of 500 tasks in headless Chromium, from the execution's
 * data being in the page to the graph on screen (React Flow's nodes rendered and fitted). Graphs
 * this large are laid out by the UI's own linear-time layout (web/src/graph/fast-layout.ts).
 */
export async function uiBench(options: BenchOptions): Promise<BenchRow[]> {
  await ensureUiBuilt()
  const assets = join(UI_DIST, 'assets')
  const js = readdirSync(assets).filter((f) => f.endsWith('.js'))
  // What the first page load fetches: the entry script and the chunks index.html preloads with it.
  const html = readFileSync(join(UI_DIST, 'index.html'), 'utf8')
  const initialNames = new Set([...html.matchAll(/(?:src|href)="\/ui\/assets\/([^"]+\.js)"/g)].map((m) => m[1]))
  const initial = js.filter((f) => initialNames.has(f))
  const elk = js.filter((f) => /^elk-/.test(f))
  // The pages that draw graphs and React Flow (fetched when a link to one is reached), and the timeline tab.
  const graphPages = js.filter((f) => /^(execution-page|flow-page|flow-graph)-/.test(f))
  const timeline = js.filter((f) => /^timeline-/.test(f))
  const editor = js.filter((f) => !initialNames.has(f) && !elk.includes(f) && !graphPages.includes(f) && !timeline.includes(f))
  const kb = (files: readonly string[]): number => gzipKb(files.map((f) => join(assets, f)))

  const sizes: BenchRow[] = [
    { name: 'UI JavaScript on first load (gzip)', value: kb(initial), unit: 'kB', better: 'lower', goal: 'React + the app' },
    { name: 'UI JavaScript of the execution and flow pages: React Flow, fetched when a link to one is reached (gzip)', value: kb(graphPages), unit: 'kB', better: 'lower' },
    { name: 'UI JavaScript fetched with the first small graph: ELK, in a worker (gzip)', value: kb(elk), unit: 'kB', better: 'lower' },
    { name: 'UI JavaScript fetched when the timeline opens (gzip)', value: kb(timeline), unit: 'kB', better: 'lower' },
    { name: 'UI JavaScript fetched when the editor opens: CodeMirror, flow schema (gzip)', value: kb(editor), unit: 'kB', better: 'lower' },
  ]
  if (!existsSync(CHROMIUM)) {
    return [...sizes, { name: `lay out and draw a 500-task execution: skipped, no Chromium at ${CHROMIUM}`, value: Number.NaN, unit: '' }]
  }
  const server = await startUiServer()
  const browser = await launchChromium()
  try {
    const flow = chainFlow(TASKS, 'noop', 'ui-bench')
    await server.engine.registerFlow(flow)
    const started = await server.engine.start({ flowId: flow.id })
    const done = await started.done
    if (done.execution.status !== 'completed') throw new Error(`the ${TASKS}-task execution ended ${done.execution.status}`)

    const runs = options.quick ? 2 : 5
    const draws: number[] = []
    const loads: number[] = []
    const layouts: number[] = []
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } })
    for (let i = 0; i < runs; i++) {
      const page = await context.newPage()
      const t0 = performance.now()
      await page.goto(`${server.url}/ui/executions/${started.executionId}`)
      const graph = page.locator(`.fm-graph[data-ready][data-nodes="${TASKS + 2}"]`)
      await graph.waitFor({ timeout: 60_000 })
      loads.push(performance.now() - t0)
      draws.push(Number(await graph.getAttribute('data-draw-ms')))
      layouts.push(Number(await graph.getAttribute('data-layout-ms')))
      if (i === 0) await page.screenshot({ path: artifactPath('execution-500-tasks.png') })
      await page.close()
    }
    await context.close()
    // The first page compiles the app's code; later ones show the steady state.
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN
    const steady = draws.length > 1 ? draws.slice(1) : draws
    return [
      ...sizes,
      { name: `lay out and draw a ${TASKS}-task execution (Chromium, first page)`, value: draws[0] ?? NaN, unit: 'ms', better: 'lower', goal: '< 1000 ms' },
      { name: `lay out and draw a ${TASKS}-task execution (Chromium, median)`, value: median(steady), unit: 'ms', better: 'lower', goal: '< 1000 ms' },
      { name: `  of which the layout (median)`, value: median(layouts.length > 1 ? layouts.slice(1) : layouts), unit: 'ms', better: 'lower' },
      { name: `open a ${TASKS}-task execution's page until drawn (median)`, value: median(loads.slice(1).length > 0 ? loads.slice(1) : loads), unit: 'ms', better: 'lower' },
    ]
  } finally {
    await browser.close()
    await server.close()
  }
}
