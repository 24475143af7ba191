import { connect } from 'node:net'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createEngine } from '../../src/engine/engine.js'
import { startServer } from '../../src/http/server.js'
import { openStore } from '../../src/store/open-store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry, defineTask } from '../../src/tasks/define-task.js'
import { delayFlow } from './helpers.js'

/** A task that waits until the test opens it, and says when it has started waiting. */
function gate(): { task: ReturnType<typeof defineTask>; entered: Promise<void>; open: () => void } {
  let entered!: () => void
  let open!: () => void
  const enteredP = new Promise<void>((resolve) => (entered = resolve))
  const opened = new Promise<void>((resolve) => (open = resolve))
  const task = defineTask({
    name: 'gate',
    description: 'waits for the test',
    run: async () => {
      entered()
      await opened
      return { opened: true }
    },
  })
  return { task, entered: enteredP, open }
}

interface SseEvent {
  id: number
  event: string
  data: Record<string, unknown>
}

function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .map((block) => {
      const fields = Object.fromEntries(block.split('\n').filter((l) => /^(id|event|data): /.test(l)).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(': ') + 2)]))
      return fields.event === undefined ? undefined : { id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data ?? 'null') }
    })
    .filter((e): e is SseEvent => e !== undefined)
}

/** Reads a stream, calling `onText` with everything read so far, until the server closes it. */
async function readAll(response: Response, onText: (text: string) => void = () => undefined): Promise<string> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return text
    text += value
    onText(text)
  }
}

const GATED_FLOW = {
  id: 'gated',
  name: 'Gated',
  start_task: 'first',
  tasks: [{ name: 'first', type: 'noop' }, { name: 'middle', type: 'gate' }, { name: 'last', type: 'noop' }],
  conditions: [
    { name: 'c1', source_task: 'first', outcome: 'success', target_task_success: 'middle', target_task_failure: 'end' },
    { name: 'c2', source_task: 'middle', outcome: 'success', target_task_success: 'last', target_task_failure: 'end' },
  ],
}

describe('on a real port', () => {
  it('streams an execution\'s history, then its live events, then closes; Last-Event-ID resumes', async () => {
    const g = gate()
    const store = await openStore('sqlite::memory:')
    const engine = createEngine({ store, tasks: createTaskRegistry([...builtinTasks, g.task]) })
    const server = await startServer({ engine, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }) })
    try {
      const started = await fetch(`${server.url}/api/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flow: GATED_FLOW, wait: false }) })
      expect(started.status).toBe(202)
      const { execution_id: id } = (await started.json()) as { execution_id: string }
      await g.entered

      const stream = await fetch(`${server.url}/api/v1/executions/${id}/events`)
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/)
      let opened = false
      const text = await readAll(stream, (sofar) => {
        // Once the history is in (up to the gate's task_started), let the execution go on.
        if (!opened && parseSse(sofar).some((e) => e.event === 'task_started' && e.data.task_name === 'middle')) {
          opened = true
          g.open()
        }
      })
      const events = parseSse(text)
      expect(events.map((e) => `${e.event}:${typeof e.data.task_name === 'string' ? e.data.task_name : ''}`)).toEqual([
        'execution_started:',
        'task_started:first',
        'task_finished:first',
        'routed:first',
        'task_started:middle',
        'task_finished:middle',
        'routed:middle',
        'task_started:last',
        'task_finished:last',
        'execution_finished:',
      ])
      expect(events.at(-1)?.data).toMatchObject({ status: 'completed', execution_id: id })
      const ids = events.map((e) => e.id)
      expect([...ids].sort((a, b) => a - b)).toEqual(ids)

      // Ids are positions in the execution's log: 1, 2, 3, … with no gaps.
      expect(ids).toEqual(ids.map((_, i) => i + 1))
      const middleStarted = events[4]!.id
      const resumed = parseSse(await readAll(await fetch(`${server.url}/api/v1/executions/${id}/events`, { headers: { 'last-event-id': String(middleStarted) } })))
      expect(resumed.map((e) => e.id)).toEqual(ids.slice(5))
    } finally {
      await server.close()
      await store.close()
    }
  })

  it('answers a request in flight when closed, then stops listening', async () => {
    const store = await openStore('sqlite::memory:')
    const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
    const server = await startServer({ engine, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }) })
    let taskStarted!: () => void
    const running = new Promise<void>((resolve) => (taskStarted = resolve))
    const unsubscribe = engine.subscribe((event) => {
      if (event.type === 'task_started') taskStarted()
    })
    try {
      const inFlight = fetch(`${server.url}/api/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flow: delayFlow(300) }) })
      await running
      const closed = server.close()
      const res = await inFlight
      expect(res.status).toBe(200)
      expect(((await res.json()) as { status: string }).status).toBe('completed')
      await closed
      await expect(fetch(`${server.url}/health`)).rejects.toThrow()
    } finally {
      unsubscribe()
      await server.close()
      await store.close()
    }
  })

  it('closes within the grace period even while a client holds a request it never finishes sending', async () => {
    const store = await openStore('sqlite::memory:')
    const engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
    // No request timeout: only shutdown itself can end the half-sent request.
    const server = await startServer({ engine, host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }), graceMs: 100, app: { requestTimeoutMs: 0 } })
    const { port } = new URL(server.url)
    const socket = connect({ host: '127.0.0.1', port: Number(port) })
    const socketClosed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    socket.on('error', () => undefined)
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
      // The head and a part of the body: a request in progress, never finished.
      socket.write('POST /api/v1/executions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"flow": ')
      await expect(fetch(`${server.url}/health`)).resolves.toMatchObject({ status: 200 })
      await server.close()
      await socketClosed
      await expect(fetch(`${server.url}/health`)).rejects.toThrow()
    } finally {
      socket.destroy()
      await server.close()
      await store.close()
    }
  })
})
