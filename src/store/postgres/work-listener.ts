import pg from 'pg'

/** The channel a store notifies when work is queued or a cancellation is requested. */
export const WORK_CHANNEL = 'flow_manager_work'

export interface WorkListener {
  /** Adds a listener; returns the function that removes it. */
  add(listener: () => void): () => void
  close(): Promise<void>
}

const MIN_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 5000

/**
 * LISTEN on a dedicated connection (a pooled one would be handed to other queries). It is opened
 * with the first listener and closed with the last. When the connection drops, e.g. because the
 * database restarted, it reconnects with a growing delay and then calls every listener once,
 * since notifications sent meanwhile were lost.
 */
export function createWorkListener(config: pg.ClientConfig): WorkListener {
  const listeners = new Set<() => void>()
  let client: pg.Client | undefined
  let connecting = false
  let timer: NodeJS.Timeout | undefined
  let backoff = MIN_BACKOFF_MS
  let missed = false
  let closed = false

  const notifyAll = (): void => {
    for (const listener of [...listeners]) listener()
  }
  const active = (): boolean => !closed && listeners.size > 0

  const retry = (): void => {
    missed = true
    if (!active() || timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      void connect()
    }, backoff)
    timer.unref()
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
  }

  const connect = async (): Promise<void> => {
    if (!active() || client !== undefined || connecting) return
    connecting = true
    const c = new pg.Client(config)
    let lost = false
    const onLost = (): void => {
      if (lost) return
      lost = true
      if (client === c) client = undefined
      c.end().catch(() => undefined)
      retry()
    }
    // A dropped connection reports both; either one means: reconnect.
    c.on('error', onLost)
    c.on('end', onLost)
    c.on('notification', (message) => {
      if (message.channel === WORK_CHANNEL) notifyAll()
    })
    try {
      await c.connect()
      await c.query(`listen ${WORK_CHANNEL}`)
    } catch {
      connecting = false
      onLost()
      return
    }
    connecting = false
    if (lost) return
    if (!active()) {
      lost = true
      await c.end().catch(() => undefined)
      return
    }
    client = c
    backoff = MIN_BACKOFF_MS
    if (missed) {
      missed = false
      notifyAll()
    }
  }

  const disconnect = async (): Promise<void> => {
    clearTimeout(timer)
    timer = undefined
    const c = client
    client = undefined
    if (c !== undefined) {
      c.removeAllListeners('end')
      c.removeAllListeners('error')
      c.on('error', () => undefined)
      await c.end().catch(() => undefined)
    }
  }

  return {
    add(listener) {
      const wrapped = (): void => listener()
      listeners.add(wrapped)
      void connect()
      return () => {
        listeners.delete(wrapped)
        if (listeners.size === 0) void disconnect()
      }
    },
    async close() {
      closed = true
      listeners.clear()
      await disconnect()
    },
  }
}
