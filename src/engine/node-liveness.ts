import { randomUUID } from 'node:crypto'
import { readFileSync, readlinkSync } from 'node:fs'
import { hostname } from 'node:os'
import type { NodeRecord } from '../store/store.js'

/**
 * What makes a pid meaningful: the machine's boot and the pid namespace. Two containers that share
 * a host name (host networking) have different pid namespaces, so neither takes the other for dead.
 */
function machineOf(): string {
  const read = (f: () => string): string => {
    try {
      return f().trim()
    } catch {
      return 'unknown'
    }
  }
  const boot = read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'))
  const pidns = read(() => readlinkSync('/proc/self/ns/pid'))
  return `${boot}/${pidns}`
}

export interface NodeIdentity {
  readonly id: string
  readonly record: (now: number) => NodeRecord
}

/** This process's identity as a lease owner: host, pid and a random part, never reused. */
export function newNodeIdentity(now: number, id = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`): NodeIdentity {
  const host = hostname()
  const machine = machineOf()
  const startedAt = now
  return { id, record: (at) => ({ id, host, pid: process.pid, machine, startedAt, beatAt: at }) }
}

/**
 * Which lease owners are dead. A node is dead when its liveness row stopped beating for
 * `staleMs`, or at once when it ran on this very machine and pid namespace and its process is
 * gone (a restart after kill -9 takes its work back without waiting). An owner with no liveness row
 * is left to its lease's expiry.
 */
export function deadOwners(owners: readonly string[], nodes: readonly NodeRecord[], self: NodeRecord, now: number, staleMs: number): string[] {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  return owners.filter((owner) => {
    if (owner === self.id) return false
    const node = byId.get(owner)
    if (node === undefined) return false
    if (now - node.beatAt > staleMs) return true
    return node.machine === self.machine && node.machine !== 'unknown/unknown' && node.pid !== process.pid && !processAlive(node.pid)
  })
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
