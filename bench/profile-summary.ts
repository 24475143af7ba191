import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Where a CPU profile's time went: `node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP]`
 * prints self time by area (our source by folder, each dependency by package, Node's internals,
 * native code, idle, garbage collection) and the TOP functions by self time. Profiles come from
 * `node --cpu-prof`, or from `npm run bench` with FM_BENCH_CPU_PROF=DIR, which profiles the
 * `serve` processes it starts. `--callers NAME` prints instead the call paths that lead to the
 * functions called NAME, by their self time.
 */
interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: readonly number[]
}
interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

/** The area a frame's time is counted under. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : `(native) ${functionName}`
  if (url.startsWith('node:')) return 'node internals'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg !== null) return pkg[1]!
  const ours = /\/(src|dist|bench)\/(.+)\/[^/]+$/.exec(url)
  if (ours !== null) return `ours: ${ours[2]}`
  return url
}

export function summarize(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const areas = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    const area = areaOf(url, functionName)
    areas.set(area, (areas.get(area) ?? 0) + us)
    const key = `${functionName || '(anonymous)'} ${url === '' ? '' : `${url.replace(/^.*\/(node_modules|src|dist)\//, '$1/')}:${lineNumber + 1}`}`
    functions.set(key, (functions.get(key) ?? 0) + us)
  }
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)}%`
  const lines = [`${(total / 1e6).toFixed(2)} s sampled`, '', 'self time by area:']
  for (const [area, us] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 25)) lines.push(`${pct(us)}  ${area}`)
  lines.push('', `top ${top} functions by self time:`)
  for (const [name, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${pct(us)}  ${name}`)
  return lines.join('\n')
}

/** The call paths (innermost `depth` callers) into functions named `name`, by the self time spent in them. */
export function callers(profile: Profile, name: string, depth = 8, top = 15): string {
  const parent = new Map<number, ProfileNode>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n)
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const paths = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0
    total += us
    const node = byId.get(id)!
    if (node.callFrame.functionName !== name) return
    const frames: string[] = []
    for (let p = parent.get(node.id); p !== undefined && frames.length < depth; p = parent.get(p.id)) {
      const { functionName, url, lineNumber } = p.callFrame
      frames.push(`${functionName || '(anonymous)'}${url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|src|dist)\//, '')}:${lineNumber + 1}`}`)
    }
    const key = frames.join(' < ')
    paths.set(key, (paths.get(key) ?? 0) + us)
  })
  return [...paths]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([path, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${name} < ${path}`)
    .join('\n')
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2)
  const file = args[0]
  if (file === undefined) throw new Error('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP] [--callers NAME]')
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const i = args.indexOf('--callers')
  console.log(i >= 0 && args[i + 1] !== undefined ? callers(profile, args[i + 1]!) : summarize(profile, Number(args[1] ?? 30)))
}
