import { createEngine, createTaskRegistry, defineTask } from '../src/index.js'
import { openPostgresStore } from '../src/store/postgres/postgres-store.js'

/**
 * One worker process of the PostgreSQL benchmark: an engine that takes work from the database
 * once told `go`, as `flow-manager worker` does. Usage: postgres-bench-worker.ts URL MAX_CONCURRENT.
 * Messages to the parent: `ready`, `started` (a `mark` task began, with the wall-clock time in ms),
 * `finished` (an execution ended here).
 */
const [url, maxConcurrentText] = process.argv.slice(2)
if (url === undefined || process.send === undefined) throw new Error('run me with fork(): postgres-bench-worker.ts URL MAX_CONCURRENT')
const send = (message: object): void => void process.send?.(message)
const wallClock = (): number => performance.timeOrigin + performance.now()

const store = await openPostgresStore({ url, poolSize: 8 })
const tasks = createTaskRegistry([
  defineTask({ name: 'nop', description: 'does nothing', run: () => undefined }),
  defineTask({
    name: 'mark',
    description: 'tells the parent when it started',
    run: () => send({ type: 'started', at: wallClock() }),
  }),
])
// Work is queued before the workers start, so no notification wakes them when slots free: poll often.
const engine = createEngine({ store, tasks, maxConcurrent: Number(maxConcurrentText ?? 1000), pollMs: 50 })
engine.subscribe((event) => {
  if (event.type === 'execution_finished') send({ type: 'finished' })
})

process.on('message', (message: { type: string }) => {
  if (message.type === 'go') engine.startWorker()
  if (message.type === 'stop') {
    void engine
      .close({ graceMs: 0 })
      .then(() => store.close())
      .then(() => process.exit(0))
  }
})
send({ type: 'ready' })
