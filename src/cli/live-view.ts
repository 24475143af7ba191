import type { EngineListener } from '../engine/engine-events.js'
import type { Colors, OutputStream } from './cli-io.js'
import { formatDuration } from './format.js'

/**
 * Shows an execution's task runs as they happen. On a terminal the "running" line is replaced
 * in place by its result; in a pipe or log each start and end gets its own line, so that a log
 * shows what was running when something hung. The engine it listens to runs this one execution
 * only (the CLI makes its own), so events need no filtering by execution id.
 */
export function createLiveView(out: OutputStream, c: Colors): EngineListener {
  const tty = out.isTTY === true
  const types = new Map<number, string>()
  let pending = false
  return (event) => {
    switch (event.type) {
      case 'execution_started':
        out.write(`${c.bold(`▶ ${event.flowId}`)} ${c.dim(`execution ${event.executionId}`)}\n`)
        return
      case 'task_started': {
        types.set(event.seq, event.taskType)
        const label = `${event.task}${event.taskType === event.task ? '' : c.dim(` (${event.taskType})`)}${event.attempt > 1 ? c.dim(` attempt ${event.attempt}`) : ''}`
        if (tty) {
          out.write(`  ${c.cyan('●')} ${label} ${c.dim('…')}`)
          pending = true
        } else {
          out.write(`  → ${label}\n`)
        }
        return
      }
      case 'task_finished': {
        const type = types.get(event.seq)
        types.delete(event.seq)
        const label = `${event.task}${type === undefined || type === event.task ? '' : c.dim(` (${type})`)}`
        const mark = event.status === 'success' ? c.green('✓') : c.red('✗')
        const why = event.error === null ? '' : ` ${c.red(event.error.message.split('\n')[0] ?? '')}`
        const next = event.nextTask === null ? '' : c.dim(` → ${event.nextTask}`)
        const text = `  ${mark} ${label} ${c.dim(formatDuration(event.durationMs))}${why}${next}\n`
        // "\r" + erase-line replaces the "running" line the start wrote.
        out.write(tty && pending ? `\r\x1b[2K${text}` : text)
        pending = false
        return
      }
      case 'execution_finished':
        if (pending) out.write('\n')
        pending = false
        return
    }
  }
}
