/**
 * The server's time as the browser can best tell it. Durations of running executions are the
 * server's `started_at` to now: with the browser's own clock, one running 1.5 s behind the
 * server's showed "-1505.0 ms". The offset is the largest lower bound seen: a server time read
 * from a response (its Date header, truncated to the second, or a timestamp it wrote) was at most
 * the server's now when the response arrived.
 */
let offset: number | undefined

function noteLowerBound(serverTime: number, localTime: number): void {
  const bound = serverTime - localTime
  if (Number.isFinite(bound) && (offset === undefined || bound > offset)) offset = bound
}

/** A response's Date header (second resolution). */
export function noteServerDate(header: string | null): void {
  if (header !== null) noteLowerBound(Date.parse(header), Date.now())
}

/** A time the server wrote (e.g. started_at): the server's clock had reached it. */
export function noteServerTime(ms: number): void {
  noteLowerBound(ms, Date.now())
}

/** Now, on the server's clock. */
export function serverNow(): number {
  return Date.now() + (offset ?? 0)
}
