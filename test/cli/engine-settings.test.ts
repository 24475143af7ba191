import { describe, expect, it } from 'vitest'
import { engineSettings } from '../../src/cli/engine-settings.js'
import { UsageError } from '../../src/cli/exit-codes.js'

describe('engine settings from the environment', () => {
  it('reads the limits: recoveries, data and execution storage', () => {
    const settings = engineSettings({ FLOW_MANAGER_MAX_RECOVERIES: '5', FLOW_MANAGER_DATA_LIMIT: '2048', FLOW_MANAGER_EXECUTION_STORAGE_LIMIT: '1048576' })
    expect(settings.engine).toEqual({ maxRecoveries: 5, dataLimit: 2048, storageLimit: 1_048_576 })
  })

  it('leaves every limit to the engine default when unset or blank', () => {
    expect(engineSettings({ FLOW_MANAGER_MAX_RECOVERIES: ' ' }).engine).toEqual({})
  })

  it.each([
    ['FLOW_MANAGER_MAX_RECOVERIES', '0', 'from 1 to 1000'],
    ['FLOW_MANAGER_DATA_LIMIT', '1MiB', 'must be a whole number'],
    ['FLOW_MANAGER_DATA_LIMIT', '10', 'from 1024'],
    ['FLOW_MANAGER_EXECUTION_STORAGE_LIMIT', '-1', 'from 1024'],
  ])('refuses %s=%s with a message naming the setting', (name, value, says) => {
    const read = (): unknown => engineSettings({ [name]: value })
    expect(read).toThrow(UsageError)
    expect(read).toThrow(new RegExp(`${name} "${value}" .*${says}`))
  })
})
