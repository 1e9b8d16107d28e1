import Foundation

/// When and how often a failed task runs again: exponential backoff with a cap and optional
/// full jitter, honouring a target's `Retry-After` when it asks for more.
public struct RetryPolicy: Codable, Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var intervalSeconds: Double
    public var backoffRate: Double
    public var maxDelaySeconds: Double
    public var fullJitter: Bool

    public init(maxAttempts: Int = 1, intervalSeconds: Double = 1, backoffRate: Double = 2, maxDelaySeconds: Double = 300, fullJitter: Bool = false) {
        self.maxAttempts = maxAttempts
        self.intervalSeconds = intervalSeconds
        self.backoffRate = backoffRate
        self.maxDelaySeconds = maxDelaySeconds
        self.fullJitter = fullJitter
    }

    /// The delay before attempt `attempt + 1`, after attempt `attempt` (1-based) failed.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?) -> Double {
        var delay = intervalSeconds * pow(backoffRate, Double(max(0, attempt - 1)))
        delay = min(delay, maxDelaySeconds)
        if fullJitter { delay = Double.random(in: 0...delay) }
        if let retryAfter { delay = max(delay, min(retryAfter, maxDelaySeconds)) }
        return delay
    }
}
