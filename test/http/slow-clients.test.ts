import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { buildApp } from '../../src/http/app.js'
import { openStore } from '../../src/store/open-store.js'
import type { Store } from '../../src/store/store.js'
import { builtinTasks } from '../../src/tasks/builtin-tasks.js'
import { createTaskRegistry } from '../../src/tasks/define-task.js'
import { delayFlow, SEED } from './helpers.js'

/** Clients on a real socket: one that sends its body too slowly, one that hangs up half-way. */

interface LogLine {
  level: number
  msg: string
  reqId?: string
  err?: { stack?: string }
}

let app: FastifyInstance
let engine: Engine
let store: Store
let port: number
const lines: LogLine[] = []

beforeAll(async () => {
  store = await openStore('sqlite::memory:')
  engine = createEngine({ store, tasks: createTaskRegistry(builtinTasks) })
  const logger = pino({ level: 'debug' }, { write: (text: string) => lines.push(JSON.parse(text) as LogLine) })
  app = await buildApp({ engine, logger, requestTimeoutMs: 300 })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  port = typeof address === 'object' && address !== null ? address.port : 0
})
afterAll(async () => {
  await app.close()
  await engine.close({ graceMs: 0 })
  await store.close()
})

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket))
    socket.on('error', reject)
  })
}

/** Everything the server sends until it closes the connection. */
function received(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('close', () => resolve(text))
    socket.on('error', () => undefined)
  })
}

const head = (length: number): string => `POST /api/v1/executions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`

describe('a body that trickles in', () => {
  it('is answered 408 with a problem once the request timeout has passed, and the connection closed', async () => {
    const body = JSON.stringify({ flow: SEED })
    const socket = await open()
    const answer = received(socket)
    socket.write(head(body.length) + body.slice(0, 10))
    // One byte now and then, never the whole body: the server must not wait for it forever.
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(' ')
    }, 50)
    const text = await answer
    clearInterval(drip)
    expect(text).toMatch(/^HTTP\/1\.1 408 /)
    expect(text).toMatch(/content-type: application\/problem\+json/i)
    const problem = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { status: number; code: string; detail: string }
    expect(problem).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT', detail: expect.stringContaining('300 ms') })
  })
})

describe('a request that arrived in time', () => {
  it('may take longer than the request timeout to be answered (waiting for its execution)', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flow: delayFlow(700) }),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ status: 'completed' })
  })
})

describe('a request that was read whole', () => {
  it('gets its own error answered, not one about an incomplete request', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ flow_id: 'no-such-flow' }),
    })
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ code: 'FLOW_NOT_FOUND' })
  })
})

describe('a client that hangs up', () => {
  it('is one debug line, not an error with a stack', async () => {
    const before = lines.length
    const socket = await open()
    const closed = received(socket)
    socket.write(head(1000) + '{"flow": ')
    // Wait until the server has read the head and is waiting for the rest of the body.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (lines.slice(before).some((l) => l.msg === 'incoming request')) {
          clearInterval(check)
          resolve()
        }
      }, 10)
    })
    socket.destroy()
    await closed
    // Then until the request's own handling has logged how it ended.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (lines.slice(before).some((l) => l.reqId !== undefined && l.msg !== 'incoming request')) {
          clearInterval(check)
          resolve()
        }
      }, 10)
    })
    const logged = lines.slice(before)
    expect(logged.filter((l) => l.level >= 40)).toEqual([])
    expect(logged.find((l) => l.msg.includes('closed the connection'))).toMatchObject({ level: 20 })
    expect(logged.some((l) => l.err?.stack !== undefined)).toBe(false)
  })
})
