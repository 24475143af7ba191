import type { TaskType } from './define-task.js'
import { delayTask } from './delay.js'
import { engineTasks } from './engine-tasks.js'
import { failTask } from './fail.js'
import { createHttpTask, type HttpTaskOptions } from './outbound-http/http-task.js'
import { noopTask } from './noop.js'
import { task1, task2, task3 } from './sample-tasks.js'

export interface BuiltinTaskOptions {
  /** How the `http` task guards its destinations; by default it refuses every non-public address. */
  readonly http?: HttpTaskOptions
}

/** The task types that ship with Flow Manager: the seed samples, the general-purpose ones, `http`, and the engine's own. */
export function createBuiltinTasks(options: BuiltinTaskOptions = {}): readonly TaskType[] {
  return [task1, task2, task3, noopTask, failTask, delayTask, createHttpTask(options.http), ...engineTasks]
}

/** The built-in task types with their default settings (the `http` task reaches public addresses only). */
export const builtinTasks: readonly TaskType[] = createBuiltinTasks()
