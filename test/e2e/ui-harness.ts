import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core'
import { afterEach, beforeEach, expect } from 'vitest'
import { pino } from 'pino'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { startServer, type RunningServer } from '../../src/http/server.js'
import { openStore } from '../../src/store/open-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, type TaskType } from '../../src/tasks/define-task.js'

export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const UI_DIST = join(REPO, 'web', 'dist')
export const ARTIFACTS = join(REPO, 'test-artifacts')
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

function newestMtime(path: string): number {
  const info = statSync(path)
  if (!info.isDirectory()) return info.mtimeMs
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), info.mtimeMs)
}

/**
 * Builds the UI when web/dist is missing or older than its sources. The build goes to a temporary
 * folder that replaces web/dist in one rename, so a server reading web/dist never sees half a build.
 */
export async function ensureUiBuilt(): Promise<void> {
  const index = join(UI_DIST, 'index.html')
  const web = join(REPO, 'web')
  const sources = Math.max(newestMtime(join(web, 'src')), newestMtime(join(web, 'index.html')), newestMtime(join(web, 'vite.config.ts')))
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return
  const out = join(web, `.dist-${process.pid}`)
  await promisify(execFile)(process.execPath, [join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(web, 'vite.config.ts'), '--outDir', out, '--logLevel', 'warn'], {
    cwd: REPO,
    // Vitest sets NODE_ENV=test, which Vite would follow into a development build of React
    // (effects run twice under StrictMode): test what users get.
    env: { ...process.env, NODE_ENV: 'production' },
  })
  const old = join(web, `.dist-old-${process.pid}`)
  if (existsSync(UI_DIST)) renameSync(UI_DIST, old)
  renameSync(out, UI_DIST)
  rmSync(old, { recursive: true, force: true })
}

/** True when CI demands the browser tests: they then fail instead of skipping. */
export const browserRequired = process.env.FLOW_MANAGER_REQUIRE_BROWSER === '1'

/**
 * Whether a Chromium is installed. When none is, it warns (so that the skipped suite is visible), or
 * throws when FLOW_MANAGER_REQUIRE_BROWSER=1, as in CI.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true
  const why = `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`
  if (browserRequired) throw new Error(`${why}, and FLOW_MANAGER_REQUIRE_BROWSER=1 requires it`)
  console.warn(`SKIPPING the browser tests: ${why}. Set FLOW_MANAGER_REQUIRE_BROWSER=1 to make this a failure.`)
  return false
}

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`)
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

export interface UiServer {
  readonly url: string
  /** The engine serving now (a new one after `start`). */
  readonly engine: Engine
  readonly store: Store
  /** Stops serving (the browser then meets a closed port), keeping the database. */
  stop(): Promise<void>
  /** Serves again on the same port and database. */
  start(): Promise<void>
  close(): Promise<void>
}

/** The real server on 127.0.0.1, an ephemeral port and a fresh SQLite file, serving the built UI. */
export async function startUiServer(options: { tasks?: readonly TaskType[]; apiKeys?: readonly string[] } = {}): Promise<UiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'flow-manager-e2e-'))
  const store = await openStore(`sqlite:${join(dir, 'e2e.db')}`)
  let engine: Engine
  let server: RunningServer | undefined
  const listen = async (port: number): Promise<RunningServer> => {
    engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, ...(options.tasks ?? [])]) })
    return startServer({ engine, host: '127.0.0.1', port, logger: pino({ level: 'silent' }), graceMs: 0, app: { apiKeys: options.apiKeys ?? [], uiRoot: UI_DIST } })
  }
  try {
    server = await listen(0)
  } catch (error) {
    await store.close()
    throw error
  }
  const url = server.url
  return {
    url,
    get engine() {
      return engine
    },
    store,
    async stop() {
      await server?.close()
      server = undefined
    },
    async start() {
      server ??= await listen(Number(new URL(url).port))
    },
    async close() {
      await server?.close()
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true })
  return join(ARTIFACTS, name)
}

/**
 * A fresh browser context and page for each test of the file (1280×860), handed to `use`. Waits
 * default to 15 s, shorter than a test's own timeout, so that a failed wait says what it waited
 * for. A test fails if its page threw or logged an error; the browser's own "Failed to load
 * resource" lines are left out, as the UI meets 4xx answers and a stopped server on purpose.
 */
export function pagePerTest(browser: () => Browser, use: (page: Page, context: BrowserContext) => void): void {
  const pageErrors: string[] = []
  let context: BrowserContext | undefined
  beforeEach(async () => {
    context = await browser().newContext({ viewport: { width: 1280, height: 860 } })
    context.setDefaultTimeout(15_000)
    const page = await context.newPage()
    page.on('pageerror', (error) => pageErrors.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text())
    })
    use(page, context)
  })
  afterEach(async () => {
    await context?.close()
    expect(pageErrors.splice(0)).toEqual([])
  })
}

export type Box = { x: number; y: number; width: number; height: number }

/** Where an element is on the page; it fails the test if the element is not drawn. */
export async function boxOf(locator: Locator): Promise<Box> {
  const box = await locator.boundingBox()
  if (box === null) throw new Error(`${String(locator)} is not on screen`)
  return box
}
