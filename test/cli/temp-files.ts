import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

/** A temporary directory with the given files, removed after the test file. */
export function tempFiles(files: Record<string, string | object>): string {
  const dir = mkdtempSync(join(tmpdir(), 'flow-manager-cli-'))
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  }
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A bare flow from tasks run in a line: each success goes to the next, any failure ends. */
export function lineFlow(id: string, tasks: readonly { name: string; type?: string; input?: object }[]): object {
  return {
    id,
    name: `${id} flow`,
    start_task: tasks[0]?.name,
    tasks,
    conditions: tasks.slice(0, -1).map((task, i) => ({
      name: `after_${task.name}`,
      source_task: task.name,
      outcome: 'success',
      target_task_success: tasks[i + 1]?.name,
      target_task_failure: 'end',
    })),
  }
}

/** Fails validation with UNKNOWN_TARGET_TASK (a typo in a target) and UNKNOWN_KEY (a typo in a key). */
export const INVALID_FLOW = {
  flow: {
    id: 'broken',
    name: 'Broken flow',
    start_task: 'task1',
    tasks: [{ name: 'task1' }, { name: 'task2' }],
    conditions: [
      { name: 'c1', source_task: 'task1', outcome: 'success', target_task_success: 'tsk2', target_task_failure: 'end', target_task_sucess: 'x' },
    ],
  },
}

/** Valid, with an UNREACHABLE_TASK warning: nothing routes to "orphan". */
export const WARNING_FLOW = lineFlow('warned', [{ name: 'task1' }]) as { tasks: object[] }
WARNING_FLOW.tasks.push({ name: 'orphan', type: 'noop' })
