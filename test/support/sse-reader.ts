/** An SSE message as a test sees it. */
export interface SseMessage {
  readonly id: string | undefined
  readonly event: string | undefined
  readonly data: Record<string, unknown> | undefined
}

/**
 * Reads a server-sent event stream as it arrives, so that a test can wait for the message it
 * expects (no sleeps) and see everything that came before it.
 */
export class SseReader {
  readonly messages: SseMessage[] = []
  /** The last `id:` seen, in a message or on its own: what a client sends back as Last-Event-ID. */
  lastId: string | undefined
  private waiters: (() => void)[] = []
  private ended = false
  private readonly controller = new AbortController()
  readonly response: Promise<Response>

  constructor(url: string, headers: Record<string, string> = {}) {
    this.response = fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: this.controller.signal })
    void this.pump()
  }

  private async pump(): Promise<void> {
    try {
      const response = await this.response
      if (response.body === null) return
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.take(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
        }
        this.wake()
      }
    } catch {
      // aborted by close(), or the server went away: `ended` tells the waiters
    } finally {
      this.ended = true
      this.wake()
    }
  }

  private take(block: string): void {
    const fields = new Map<string, string>()
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || !line.includes(':')) continue
      fields.set(line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart())
    }
    const id = fields.get('id')
    if (id !== undefined) this.lastId = id
    const data = fields.get('data')
    if (data === undefined) return
    this.messages.push({ id, event: fields.get('event'), data: JSON.parse(data) as Record<string, unknown> })
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }

  /** Waits for the first message (from the start of the stream) that `match` accepts. */
  async until(match: (message: SseMessage) => boolean, what: string): Promise<SseMessage> {
    for (;;) {
      const found = this.messages.find(match)
      if (found !== undefined) return found
      if (this.ended) throw new Error(`the stream ended before ${what}; it sent ${JSON.stringify(this.messages)}`)
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /** Waits until the stream has said where it stands (its first `id:`). */
  async positioned(): Promise<string> {
    while (this.lastId === undefined) {
      if (this.ended) throw new Error('the stream ended before it sent an id')
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
    return this.lastId
  }

  close(): void {
    this.controller.abort()
  }
}
