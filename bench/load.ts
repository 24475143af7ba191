import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** What one load run measured. Latencies in ms. */
export interface Load {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  /** Connection errors, timeouts and non-2xx answers. */
  readonly errors: number
}

const BIN = join(dirname(createRequire(import.meta.url).resolve('autocannon/package.json')), 'autocannon.js')

/**
 * Loads `url` for `seconds` with autocannon's CLI in a child process (50 connections), so that
 * the load generator is neither server's event loop.
 */
export function autocannon(url: string, options: { seconds: number; method?: 'GET' | 'POST'; body?: string }): Promise<Load> {
  const args = [BIN, '--json', '-c', '50', '-d', String(options.seconds), '-m', options.method ?? 'GET']
  if (options.body !== undefined) args.push('-H', 'content-type=application/json', '-b', options.body)
  args.push(url)
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error !== null) {
        reject(new Error(`autocannon failed: ${error.message}`, { cause: error }))
        return
      }
      const result = JSON.parse(stdout) as { duration: number; requests: { total: number }; latency: { p50: number; p99: number }; errors: number; timeouts: number; non2xx: number }
      // Completed requests over the run's length: per-second averages are coarse for 1-second runs.
      resolve({ rps: result.requests.total / result.duration, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx })
    })
  })
}
