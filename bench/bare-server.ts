import Fastify, { type FastifyReply } from 'fastify'

/**
 * The HTTP baseline of `npm run bench`: a bare Fastify route in its own process, no hooks and no
 * logger, answering a canned execution (BENCH_CANNED) to GET and POST on every path, with the
 * request body parsed as Fastify parses JSON. Prints its address on stdout once it listens.
 * With BENCH_LOG=info it logs as Fastify does by default (two pino lines per request, on stdout):
 * the least any service that logs its requests pays.
 */
const canned = process.env.BENCH_CANNED
if (canned === undefined) throw new Error('bare-server.ts needs the canned answer in BENCH_CANNED')
const app = Fastify({ logger: process.env.BENCH_LOG === 'info' ? { level: 'info' } : false })
const answer = (_request: unknown, reply: FastifyReply): FastifyReply => reply.type('application/json').send(canned)
app.get('/*', answer)
app.post('/*', answer)
const url = await app.listen({ host: '127.0.0.1', port: 0 })
console.log(url)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
