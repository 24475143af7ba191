import type { TaskType } from './define-task.js'
import { delayTask } from './delay.js'
import { failTask } from './fail.js'
import { noopTask } from './noop.js'
import { task1, task2, task3 } from './sample-tasks.js'

/** The task types that ship with Flow Manager: the seed samples and the general-purpose ones. */
export const builtinTasks: readonly TaskType[] = [task1, task2, task3, noopTask, failTask, delayTask]
