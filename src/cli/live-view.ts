import { RETRY_DEFAULTS, type Flow } from '../core/flow-schema.js'
import type { EngineListener, EngineNotice } from '../engine/engine-events.js'
import type { Colors, OutputStream } from './cli-io.js'
import { formatDuration } from './format.js'
import { createScreen } from './live-region.js'

export interface LiveViewOptions {
  /** The flow being run: how many attempts its tasks have ("attempt 2 of 3"). */
  readonly flow?: Flow
  /** How to send a signal from elsewhere, shown beside a run that waits for one. */
  readonly signalHint?: (executionId: string, signal: string) => string
}

/** A run the view shows (or counts, for an item run) until it finishes. */
interface Shown {
  readonly execution: string
  readonly seq: number
  readonly task: string
  readonly type: string
  readonly attempt: number
  readonly item: number | null
  readonly parent: string | null
  readonly depth: number
  waiting: string | null
  items: { readonly total: number; done: number } | null
}

/** "2 s", "350 ms", "4m 05s": how long until something, as people say it. */
export function roughly(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`
  return formatDuration(ms)
}

/**
 * Shows an execution's task runs as they happen, runs side by side included. On a terminal every
 * run still going (running, waiting for a timer, a signal or a sub-flow, a for_each with its item
 * progress, a planned retry) has one line at the bottom, redrawn in place, while ended runs stay
 * above; in a pipe or a log each start, wait, retry and end gets a line of its own, so that a log
 * shows what was going on when something hung. Runs of sub-flow executions nest under the task
 * that waits for them; item runs of a for_each show as its progress, and one line each only when
 * they fail.
 */
export function createLiveView(out: OutputStream, c: Colors, options: LiveViewOptions = {}): EngineListener {
  const tty = out.isTTY === true
  const screen = createScreen(out, tty)
  const shown = new Map<string, Shown>()
  /** Planned retries by execution, task and item: a line until the next attempt starts. */
  const retries = new Map<string, { readonly depth: number; readonly text: string }>()
  /** A sub-flow's execution id -> the run (key) that waits for it. */
  const childOf = new Map<string, string>()
  let root: string | undefined

  const keyOf = (execution: string, seq: number): string => `${execution}:${seq}`
  const indent = (depth: number): string => '  '.repeat(depth + 1)
  const label = (r: Pick<Shown, 'task' | 'type' | 'attempt' | 'item'>): string =>
    `${r.task}${r.item === null ? '' : ` [item ${r.item}]`}${r.type === r.task ? '' : c.dim(` (${r.type})`)}${r.attempt > 1 ? c.dim(` attempt ${r.attempt}`) : ''}`
  const attempts = (execution: string, task: string): string => {
    const retry = execution === root ? options.flow?.tasks.find((t) => t.name === task)?.retry : undefined
    return retry === undefined ? '' : ` of ${retry.max_attempts ?? RETRY_DEFAULTS.max_attempts}`
  }
  const firstLine = (message: string): string => message.split('\n')[0] ?? ''

  const running = (parent: string): number => {
    let n = 0
    for (const r of shown.values()) if (r.parent === parent && r.item !== null) n++
    return n
  }

  const region = (): string[] => {
    const lines: string[] = []
    const visible = [...shown.entries()].filter(([, r]) => r.item === null)
    const walk = (parent: string | null): void => {
      for (const [key, r] of visible) {
        if (r.parent !== parent) continue
        const state = r.waiting ?? (r.items === null ? c.dim('running') : `${r.items.done}/${r.items.total} items done${c.dim(`, ${running(key)} running`)}`)
        const mark = r.waiting === null ? c.cyan('●') : c.yellow('⏸')
        lines.push(`${indent(r.depth)}${mark} ${label(r)} ${state}`)
        walk(key)
      }
    }
    walk(null)
    for (const retry of retries.values()) lines.push(`${indent(retry.depth)}${c.yellow('↻')} ${retry.text}`)
    return lines
  }

  const waitingText = (execution: string, waitingFor: Record<string, unknown>, at: number): string => {
    if (typeof waitingFor.timer === 'string') return `waiting until ${waitingFor.timer} (in ${roughly(Date.parse(waitingFor.timer) - at)})`
    if (typeof waitingFor.signal === 'string') {
      const until = typeof waitingFor.timeout_at === 'string' ? ` until ${waitingFor.timeout_at}` : ''
      const hint = options.signalHint === undefined ? '' : c.dim(` (send it: ${options.signalHint(execution, waitingFor.signal)})`)
      return `waiting for signal ${waitingFor.signal}${until}${hint}`
    }
    return `waiting for sub-flow execution ${typeof waitingFor.child === 'string' ? waitingFor.child : ''}`
  }

  const handle = (event: EngineNotice, stay: string[]): boolean => {
    switch (event.type) {
      case 'execution_started':
        if (root !== undefined) return false
        root = event.executionId
        stay.push(`${c.bold(`▶ ${event.flowId}`)} ${c.dim(`execution ${event.executionId}`)}`)
        return true
      case 'task_started': {
        const { executionId: execution, seq } = event
        const parent = event.parentSeq !== null ? keyOf(execution, event.parentSeq) : (childOf.get(execution) ?? null)
        const depth = parent === null ? 0 : (shown.get(parent)?.depth ?? -1) + 1
        const run: Shown = { execution, seq, task: event.task, type: event.taskType, attempt: event.attempt, item: event.item, parent, depth, waiting: null, items: event.items === null ? null : { total: event.items, done: 0 } }
        shown.set(keyOf(execution, seq), run)
        retries.delete(`${execution}:${event.task}:${String(event.item)}`)
        if (run.item !== null) return false
        if (!tty) stay.push(`${indent(depth)}→ ${label(run)}${run.items === null ? '' : c.dim(` over ${run.items.total} items`)}`)
        return true
      }
      case 'task_waiting': {
        const run = shown.get(keyOf(event.executionId, event.seq))
        if (run === undefined) return false
        const waitingFor = event.waitingFor as Record<string, unknown>
        if (typeof waitingFor.child === 'string') childOf.set(waitingFor.child, keyOf(event.executionId, event.seq))
        run.waiting = waitingText(event.executionId, waitingFor, event.at)
        if (!tty) stay.push(`${indent(run.depth)}${c.yellow('⏸')} ${label(run)} ${run.waiting}`)
        return true
      }
      case 'task_finished': {
        const key = keyOf(event.executionId, event.seq)
        const run = shown.get(key) ?? { execution: event.executionId, seq: event.seq, task: event.task, type: event.taskType, attempt: event.attempt, item: null, parent: null, depth: 0, waiting: null, items: null }
        shown.delete(key)
        const owner = run.parent === null ? undefined : shown.get(run.parent)
        if (event.retryAt !== null) {
          const next = `retrying in ${roughly(event.retryAt - event.at)} (attempt ${run.attempt + 1}${attempts(run.execution, run.task)})`
          retries.set(`${run.execution}:${run.task}:${String(run.item)}`, { depth: run.depth, text: `${label({ ...run, attempt: 1 })} ${next}` })
          stay.push(`${indent(run.depth)}${c.yellow('↻')} ${label(run)} ${c.red(`failed: ${firstLine(event.error?.message ?? '')}`)}; ${next}`)
          return true
        }
        if (run.item !== null) {
          if (event.status === 'success' && owner?.items != null) {
            const items = owner.items
            items.done += 1
            // A log gets a line at each tenth of a long list; a terminal is redrawn about a hundred times over it.
            const tenth = items.total >= 20 && items.done < items.total && Math.floor((items.done * 10) / items.total) > Math.floor(((items.done - 1) * 10) / items.total)
            if (!tty && tenth) stay.push(`${indent(owner.depth)}${c.dim('…')} ${label(owner)} ${items.done}/${items.total} items done`)
            return tenth || items.done === items.total || items.done % Math.max(1, Math.floor(items.total / 100)) === 0
          }
          if (event.error?.code === 'ITEM_CANCELLED') return false
        }
        const mark = event.status === 'success' ? c.green('✓') : c.red('✗')
        const count = run.items === null ? '' : ` ${run.items.total} items`
        const why = event.error === null ? '' : ` ${c.red(firstLine(event.error.message))}`
        const next = event.nextTask === null ? '' : c.dim(` → ${event.nextTask}`)
        stay.push(`${indent(run.depth)}${mark} ${label(run)}${c.dim(count)} ${c.dim(formatDuration(event.durationMs))}${why}${next}`)
        return true
      }
      case 'execution_finished':
        if (event.executionId === root) {
          retries.clear()
          shown.clear()
        }
        return true
      default:
        return false
    }
  }

  return (event) => {
    const stay: string[] = []
    if (handle(event, stay)) screen.update(stay, region())
  }
}
