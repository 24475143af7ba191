import type { Command } from '../core/commands.js'
import type { ExecutionEventRecord, StepWrite } from '../store/store.js'
import type { ActorEnv, ActorView } from './actor-env.js'
import { waitingView } from './step-writer.js'

/**
 * After a step is committed: tells listeners (the CLI's live view, event streams) what happened,
 * and writes the log lines an operator needs (ends, failures, retries, cancels, recoveries).
 */
export function describeCommands(env: ActorEnv, actor: ActorView, commands: readonly Command[], write: StepWrite, at: number): void {
  const id = actor.id
  const { logger } = env
  const listening = env.listening()
  if (listening && write.events.length > 0) {
    const events: ExecutionEventRecord[] = write.events.map((e) => ({ executionId: id, seq: e.seq, type: e.type, at: e.at, taskName: e.taskName, data: e.data }))
    env.emit({ type: 'logged', executionId: id, events })
  }
  if (write.events[0]?.type === 'execution_started' && listening) env.emit({ type: 'execution_started', executionId: id, flowId: actor.identity.flowId, flowVersion: actor.identity.flowVersion, at })
  for (const e of write.events) {
    if (e.type === 'task_started' || e.type === 'task_finished' || e.type === 'routed') continue
    if (e.type === 'execution_resumed') {
      // A parked execution taken up when its timer, signal or child came is routine: debug, not info.
      if ((e.data as { reason?: unknown } | null)?.reason === 'woken') logger.debug({ executionId: id, ...e.data }, 'parked execution taken up')
      else logger.info({ executionId: id, ...e.data }, 'execution resumed')
    }
    else if (e.type === 'cancel_requested') logger.info({ executionId: id, ...e.data }, 'execution cancelled')
    else if (e.type === 'task_interrupted') logger.info({ executionId: id, ...e.data }, 'task run cut off; it runs again')
  }
  for (const c of commands) {
    switch (c.type) {
      case 'start_run':
        if (listening) {
          const items = c.items === undefined ? null : c.items.length
          env.emit({ type: 'task_started', executionId: id, task: c.task.name, taskType: c.task.type, seq: c.seq, attempt: c.attempt, item: c.item, parentSeq: c.parentSeq, branch: c.branch, items, at })
        }
        break
      case 'park_run':
        if (listening) {
          const child = write.children?.find((e) => e.parent?.seq === c.seq)?.id
          env.emit({ type: 'task_waiting', executionId: id, task: runTask(write, c.seq), seq: c.seq, waitingFor: waitingView(c.waiting, child), at })
        }
        break
      case 'finish_run': {
        if (c.status === 'failure' && c.error !== null) {
          const fields = { executionId: id, task: c.task, seq: c.seq, errorCode: c.error.code ?? null, error: c.error.message.split('\n')[0] }
          if (c.retryAt !== null) logger.info({ ...fields, retryAt: new Date(c.retryAt).toISOString() }, 'task run failed; retry planned')
          else logger.info(fields, 'task run failed')
        }
        if (listening) {
          const end = write.runs.find((w) => w.seq === c.seq && (w.kind === 'end' || (w.kind === 'start' && w.end !== undefined)))
          const durationMs = end?.kind === 'end' ? end.durationMs : end?.kind === 'start' ? (end.end?.durationMs ?? 0) : 0
          const info = actor.runInfo(c.seq)
          env.emit({
            type: 'task_finished',
            executionId: id,
            task: c.task,
            taskType: end?.kind === 'start' ? end.taskType : (info?.taskType ?? ''),
            seq: c.seq,
            attempt: end?.kind === 'start' ? end.attempt : (info?.attempt ?? 0),
            status: c.status,
            error: c.error,
            durationMs,
            nextTask: c.nextTask,
            retryAt: c.retryAt,
            item: c.item,
            at,
          })
        }
        break
      }
      case 'finish': {
        const s = actor.state
        const started = write.state.startedAt
        logger.info(
          {
            executionId: id,
            flowId: actor.identity.flowId,
            flowVersion: actor.identity.flowVersion,
            status: c.status,
            durationMs: started === null ? null : at - started,
            errorCode: s.error?.code ?? null,
          },
          'execution finished',
        )
        if (listening) env.emit({ type: 'execution_finished', executionId: id, flowId: actor.identity.flowId, flowVersion: actor.identity.flowVersion, status: c.status, error: s.error, at })
        break
      }
      default:
        break
    }
  }
}

function runTask(write: StepWrite, seq: number): string {
  for (const w of write.runs) if (w.kind === 'start' && w.seq === seq) return w.taskName
  return ''
}
