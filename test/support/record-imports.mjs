// `node --import ./test/support/record-imports.mjs …` appends the URL of every module the process
// loads to the file named by RECORD_IMPORTS_TO, one per line: what a command really loads.
import { register } from 'node:module'
import process from 'node:process'

register('./record-imports-hooks.mjs', { parentURL: import.meta.url, data: { file: process.env.RECORD_IMPORTS_TO } })
