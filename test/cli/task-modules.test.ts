import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { REPO, testIo } from './cli-test-io.js'
import { lineFlow, tempFiles } from './temp-files.js'

const MEMORY = ['--db', 'sqlite::memory:']
// Modules in a directory outside the package, in plain JavaScript: they cannot import
// 'durable-flow-manager' from there, and a task type needs nothing from it anyway (name, description, run).
const dir = tempFiles({
  'double.mjs': `export default [{ name: 'double', description: 'Doubles input.value.', run: (input) => ({ value: input.value * 2 }) }]\n`,
  'double-flow.json': lineFlow('doubling', [{ name: 'double', input: { value: 21 } }]),
  'string.mjs': `export default 'task1'\n`,
  'single.mjs': `export default { name: 'lonely', description: 'One task, not in a list', run: () => 1 }\n`,
  'nothing.mjs': `export const helper = 1\n`,
  'bad-item.mjs': `export default [{ name: 'ok', run: () => 1 }, 42]\n`,
  'throws.mjs': `throw new Error('MY_API_KEY is not set')\nexport default []\n`,
  'clash.mjs': `export default [{ name: 'task2', description: 'Shadows a built-in', run: () => 1 }]\n`,
  // TypeScript in a folder without "type": "module", as in many projects: compiled to CommonJS.
  'typed.ts': `interface In { value: number }\nexport default [{ name: 'triple', description: 'Triples input.value.', run: (input: In) => ({ value: input.value * 3 }) }]\n`,
  'triple-flow.json': lineFlow('tripling', [{ name: 'triple', input: { value: 14 } }]),
  'broken.ts': `interface In { value: number }\nexport default [\n  { name: 'oops', description: 'x', run: (input: In) => { return input.value +  } },\n]\n`,
  'broken.mjs': `export default [\n  { name: 'oops', run: () => 1 + },\n]\n`,
})

describe('--tasks MODULE', () => {
  it('loads a TypeScript module that exports `tasks` and runs a flow that uses it', async () => {
    const io = testIo()
    const code = await main(['run', 'test/cli/fixtures/counter-flow.json', '--tasks', 'test/cli/fixtures/counter-tasks.ts', ...MEMORY, '--json'], io)
    expect(io.err()).toBe('')
    expect(code).toBe(0)
    expect(JSON.parse(io.out()).task_results[0]).toMatchObject({ task_name: 'count', task_type: 'count-up', data: { value: 42 } })
  })

  it('loads a JavaScript module by path relative to the working directory', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['run', 'double-flow.json', '--tasks', './double.mjs', ...MEMORY, '--json'], io)).toBe(0)
    expect(JSON.parse(io.out()).task_results[0].data).toEqual({ value: 42 })
  })

  it('takes the modules from FLOW_MANAGER_TASKS when --tasks is not given', async () => {
    const io = testIo({ cwd: dir, env: { FLOW_MANAGER_TASKS: ' ./double.mjs , ' } })
    expect(await main(['validate', 'double-flow.json'], io)).toBe(0)
  })

  it('validates a flow against the task types of several modules', async () => {
    const io = testIo({ cwd: dir })
    const argv = ['validate', join(REPO, 'test/cli/fixtures/counter-flow.json'), '--tasks', './double.mjs', '--tasks', join(REPO, 'test/cli/fixtures/counter-tasks.ts')]
    expect(await main(argv, io)).toBe(0)
  })

  const rejects = (module: string, message: string) => async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['validate', 'double-flow.json', '--tasks', module], io)).toBe(2)
    expect(io.err()).toBe(`flow-manager: ${message}\n`)
  }

  it('rejects a module whose default export is not a list, in one line naming the file', rejects('string.mjs',
    'task module string.mjs: expected a list of task types as the default export (export default [defineTask({...})]) or as "export const tasks", but its default export is a string'))

  it('rejects a single task type exported without a list, and says to wrap it', rejects('single.mjs',
    'task module single.mjs: expected a list of task types as the default export (export default [defineTask({...})]) or as "export const tasks", but its default export is a single task type ("lonely"; wrap it in a list)'))

  it('rejects a module without a default export or `tasks`', rejects('nothing.mjs',
    'task module nothing.mjs: expected a list of task types as the default export (export default [defineTask({...})]) or as "export const tasks", but it has no default export'))

  it('rejects a list item that is not a task type, naming its position', rejects('bad-item.mjs',
    'task module bad-item.mjs: item 1 of the default export is a number, not a task type made with defineTask'))

  it('rejects a task type that a built-in already defines', rejects('clash.mjs',
    'task module clash.mjs defines task type "task2", which the built-in task types already define'))

  it('rejects a module that does not exist', rejects('./missing.ts', 'cannot load task module ./missing.ts: no such file'))

  it('loads a TypeScript module from a folder that is not an ES module package', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['run', 'triple-flow.json', '--tasks', './typed.ts', ...MEMORY, '--json'], io)).toBe(0)
    expect(JSON.parse(io.out()).task_results[0].data).toEqual({ value: 42 })
  })

  it('reports a syntax error in a TypeScript module with file:line:column and the code around it', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['validate', 'double-flow.json', '--tasks', './broken.ts'], io)).toBe(2)
    expect(io.err()).toBe(
      [
        'flow-manager: task module ./broken.ts: syntax error at broken.ts:3:80: Unexpected "}"',
        '  1 | interface In { value: number }',
        '  2 | export default [',
        "> 3 |   { name: 'oops', description: 'x', run: (input: In) => { return input.value +  } },",
        `    | ${' '.repeat(79)}^`,
        '  4 | ]',
        '',
      ].join('\n'),
    )
  })

  it('reports a syntax error in a JavaScript module with file:line:column and the code around it', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['validate', 'double-flow.json', '--tasks', 'broken.mjs'], io)).toBe(2)
    expect(io.err()).toMatch(/^flow-manager: task module broken\.mjs: syntax error at broken\.mjs:2:34: Unexpected "}"\n/)
    expect(io.err()).toContain(`> 2 |   { name: 'oops', run: () => 1 + },\n    | ${' '.repeat(33)}^\n`)
  })

  it('reports a module that throws as it loads in one line, without a stack trace', async () => {
    const io = testIo({ cwd: dir })
    expect(await main(['validate', 'double-flow.json', '--tasks', 'throws.mjs'], io)).toBe(2)
    expect(io.err()).toBe('flow-manager: task module throws.mjs: cannot be loaded: MY_API_KEY is not set\n')
  })
})

describe('examples/custom-tasks.ts', () => {
  // It imports 'durable-flow-manager' as users do, which resolves to the package's own build (dist/),
  // made by `npm install` (prepare). Build it here only when it is missing, e.g. after a clean.
  beforeAll(() => {
    if (!existsSync(join(REPO, 'dist/index.js'))) {
      try {
        execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'ignore' })
      } catch {
        // tsc emits even when it reports type errors elsewhere; the test below says if dist is unusable.
      }
    }
  })

  it('runs examples/custom-flow.json with the task types it defines', async () => {
    const io = testIo()
    const code = await main(['run', 'examples/custom-flow.json', '--tasks', 'examples/custom-tasks.ts', '--input', '{"name": "Ada"}', ...MEMORY, '--json'], io)
    expect(io.err()).toBe('')
    expect(code).toBe(0)
    const view = JSON.parse(io.out())
    expect(view.executed_tasks).toEqual(['greet', 'shout'])
    expect(view.task_results[1].data).toEqual({ shouted: 'HELLO, ADA!' })
  })
})
