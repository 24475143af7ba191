import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

/** Where the web UI is served; every path below it is the UI's. */
export const UI_PREFIX = '/ui/'

/** The built web UI (`npm run build` writes it): web/dist beside src/ and dist/. */
export const DEFAULT_UI_ROOT = fileURLToPath(new URL('../../../web/dist', import.meta.url))

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flow Manager</title></head>
<body><h1>Flow Manager</h1><p>The web UI has not been built: run <code>npm run build</code>. Meanwhile the API is documented, and can be tried, at <a href="/docs">/docs</a>.</p></body></html>
`

/**
 * The web UI under /ui/ (the README's "Web UI"), and `/` redirecting there. Files come from the built UI; any
 * other path under /ui/ answers index.html, so that an address such as /ui/executions/{id} can be
 * shared and reloaded. These paths stay open when API keys are set (auth.ts); the UI asks for a key
 * when the API answers 401.
 */
export async function uiRoutes(app: FastifyInstance, options: { root?: string } = {}): Promise<void> {
  const root = options.root ?? DEFAULT_UI_ROOT
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect('/ui/', 302))
  app.get('/ui', { schema: { hide: true } }, (_request, reply) => reply.redirect('/ui/', 302))
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/ui/*', { schema: { hide: true } }, (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT))
    return
  }
  const assets = join(root, 'assets')
  await app.register(fastifyStatic, {
    root,
    prefix: UI_PREFIX,
    // One route per built file, found once at start: a request can never reach outside the folder.
    wildcard: false,
    cacheControl: false,
    schemaHide: true,
    setHeaders: (reply, path) => {
      // Assets carry a content hash in their names; index.html must be re-read to find new ones.
      reply.header('cache-control', path.startsWith(assets) ? 'public, max-age=31536000, immutable' : 'no-cache')
    },
  })
  app.get('/ui/*', { schema: { hide: true } }, (request, reply) => {
    // A missing asset is a 404, not the app: a stale page must not get HTML for its script.
    if (request.url.startsWith('/ui/assets/')) return reply.callNotFound()
    return reply.header('cache-control', 'no-cache').sendFile('index.html', root)
  })
}
