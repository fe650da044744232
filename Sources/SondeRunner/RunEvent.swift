import SondeCore

/// What the runner tells its listeners as it goes, in order.
public enum RunEvent: Sendable {
    /// `position`: the step's place in the plan, from 0.
    case requestStarted(position: Int, name: String)
    case requestFinished(RequestResult)
}
