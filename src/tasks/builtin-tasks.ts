import type { TaskType } from './define-task.js'
import { delayTask } from './delay.js'
import { engineTasks } from './engine-tasks.js'
import { failTask } from './fail.js'
import { noopTask } from './noop.js'
import { task1, task2, task3 } from './sample-tasks.js'

/** The task types that ship with Flow Manager: the seed samples, the general-purpose ones, and the engine's own. */
export const builtinTasks: readonly TaskType[] = [task1, task2, task3, noopTask, failTask, delayTask, ...engineTasks]
