import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createReloadableTaskRegistry, type Logger, type ReloadableTaskRegistry, type TaskType } from '../tasks/define-task.js'
import { loadTaskTypes } from './load-task-modules.js'

export interface WatchedTaskModules {
  readonly registry: ReloadableTaskRegistry
  close(): void
}

export interface WatchOptions {
  readonly modules: readonly string[]
  readonly cwd: string
  readonly logger: Logger
  /** The built-in task types, as configured (the http task's allow list). */
  readonly builtins?: readonly TaskType[]
  /** Quiet time after the last change before reloading: editors write a file in several steps. Default 100 ms. */
  readonly settleMs?: number
}

/** The local files a module graph imported: packages under node_modules are not watched. */
function localFile(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined
  const path = fileURLToPath(url.split('?')[0] ?? url)
  return path.includes('/node_modules/') ? undefined : path
}

/**
 * `serve --watch`: loads the task modules, then loads them again whenever one of their files (or
 * a local file they import) changes, and swaps the registry's task types. A task run looks its
 * type up when it starts, so runs in progress finish on the code they started with and later
 * runs use the new code. A reload that fails (a syntax error, a duplicate name) changes nothing
 * and logs why.
 *
 * Each file's folder is watched rather than the file, since editors often save by replacing it.
 */
export async function watchTaskModules(options: WatchOptions): Promise<WatchedTaskModules> {
  const { modules, cwd, logger } = options
  const settleMs = options.settleMs ?? 100
  let files = new Set<string>()
  const load = async (): Promise<ReturnType<typeof loadTaskTypes>> => {
    const seen = new Set<string>()
    try {
      const onImport = (url: string): void => {
        const file = localFile(url)
        if (file !== undefined) seen.add(file)
      }
      return await loadTaskTypes(modules, cwd, { fresh: true, onImport }, options.builtins)
    } finally {
      // A module that failed halfway is watched too, so that fixing it reloads.
      files = new Set([...files, ...seen])
    }
  }
  const registry = createReloadableTaskRegistry(await load())

  const watchers = new Map<string, FSWatcher>()
  let timer: NodeJS.Timeout | undefined
  let reloading: Promise<void> | undefined
  let again = false
  let closed = false

  const reload = async (): Promise<void> => {
    try {
      const types = await load()
      if (closed) return
      registry.replace(types)
      logger.info({ tasks: registry.names() }, 'task modules reloaded: new task runs use the new code')
    } catch (error) {
      logger.error({ err: error }, `task modules not reloaded, the previous code stays in use: ${error instanceof Error ? error.message : String(error)}`)
    }
    follow()
  }
  const changed = (): void => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      if (closed) return
      if (reloading !== undefined) {
        again = true
        return
      }
      reloading = reload().finally(() => {
        reloading = undefined
        if (again) {
          again = false
          changed()
        }
      })
    }, settleMs)
  }
  /** Watches the folder of every file of the module graph. */
  const follow = (): void => {
    for (const dir of new Set([...files].map((f) => dirname(f)))) {
      if (watchers.has(dir) || closed) continue
      try {
        const watcher = watch(dir, (_event, name) => {
          if (name !== null && [...files].some((f) => dirname(f) === dir && basename(f) === name)) changed()
        })
        watcher.on('error', (error) => logger.warn({ err: error, dir }, 'cannot watch a folder of the task modules'))
        watchers.set(dir, watcher)
      } catch (error) {
        logger.warn({ err: error, dir }, 'cannot watch a folder of the task modules')
      }
    }
  }
  follow()
  logger.info({ files: [...files] }, 'watching the task modules: a change reloads them')

  return {
    registry,
    close() {
      closed = true
      clearTimeout(timer)
      for (const watcher of watchers.values()) watcher.close()
      watchers.clear()
    },
  }
}
