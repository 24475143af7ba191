import { retryNow, useConnection } from './connection.js'
import { useNow } from './format.js'

/**
 * Says so when the server does not answer, counts down to the next attempt, and goes away by
 * itself once the server answers again; pages then finish loading what they were reading.
 */
export function ServerBanner(): React.JSX.Element | null {
  const connection = useConnection()
  useNow(!connection.reachable)
  if (connection.reachable) return null
  const seconds = connection.retryAt === null ? 0 : Math.max(0, Math.ceil((connection.retryAt - Date.now()) / 1000))
  return (
    <div className="fm-banner" role="alert">
      <span>
        <strong>The server is unreachable.</strong> {seconds > 0 ? `Trying again in ${seconds} s…` : 'Trying again…'} What is on screen may be out of date.
      </span>
      <button type="button" className="fm-button small" onClick={retryNow}>
        Retry now
      </button>
    </div>
  )
}
