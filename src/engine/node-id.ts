import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'

/**
 * A node's identity as a lease owner: `host/pid/random`. The host and pid let a restarted
 * process on the same machine see at once that a previous owner is dead, instead of waiting for
 * its leases to expire.
 */
export function newNodeId(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`
}

/** True when `owner` was a process on this host that no longer exists. */
export function isDeadLocalOwner(owner: string): boolean {
  const [host, pidText] = owner.split('/')
  const pid = Number(pidText)
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}
