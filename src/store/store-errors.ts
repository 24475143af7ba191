/** SQLite result codes (better-sqlite3's `code`) that say the database cannot serve now: full, I/O, busy, read-only. */
const SQLITE_UNAVAILABLE = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|PROTOCOL|NOMEM)/
/**
 * SQLSTATE classes of PostgreSQL that say the same: 08 connection, 53 insufficient resources (disk
 * full, out of memory, too many connections), 57 operator intervention (a terminated backend, a
 * shutdown, a cancelled statement), 58 system error (I/O), 40 a transaction rolled back (a
 * serialization failure or a deadlock: tried again, it works).
 */
const PG_UNAVAILABLE_CLASSES: ReadonlySet<string> = new Set(['08', '53', '57', '58', '40'])
/** A read-only transaction: the database failed over to a standby. */
const PG_READ_ONLY = '25006'
/** Network errors of Node's sockets. */
const NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
/** node-postgres reports a connection that broke, or none to be had, as a plain Error with one of these messages. */
const PG_CONNECTION_MESSAGE = /connection terminated|connection error|timeout exceeded when trying to connect|not queryable|connection is closed/i

/**
 * Whether an error from a database driver says the store cannot serve now (unreachable, a connection
 * cut, the disk full, too busy), rather than that a statement or our code is wrong: trying again
 * later can work, so the HTTP API answers 503 with Retry-After instead of 500.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || SQLITE_UNAVAILABLE.test(code)) return true
    if (/^[0-9A-Z]{5}$/.test(code)) return code === PG_READ_ONLY || PG_UNAVAILABLE_CLASSES.has(code.slice(0, 2))
    return false
  }
  const message = (error as { message?: unknown }).message
  return Object.getPrototypeOf(error) === Error.prototype && typeof message === 'string' && PG_CONNECTION_MESSAGE.test(message)
}
