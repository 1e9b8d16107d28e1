import Foundation

/// Time-ordered identifiers (UUIDv7): unique across processes and cheap to index,
/// since new ids land at the right edge of the b-tree.
public enum ExecutionUID {
    public static func make(now: Date = Date()) -> String {
        let millis = UInt64(now.timeIntervalSince1970 * 1000)
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8((millis >> (8 * (5 - UInt64(i)))) & 0xff) }
        var random = SystemRandomNumberGenerator()
        for i in 6..<16 { bytes[i] = UInt8.random(in: 0...255, using: &random) }
        bytes[6] = (bytes[6] & 0x0f) | 0x70
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

/// Who holds a lease: `host:pid:token`. The pid lets a process on the same host release the
/// leases of a dead predecessor at once instead of waiting for them to expire.
public struct LeaseOwner: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let pid: Int32
    public let token: String

    public static func current() -> LeaseOwner {
        LeaseOwner(host: ProcessInfo.processInfo.hostName, pid: getpid(), token: String(UInt32.random(in: 0...UInt32.max), radix: 36))
    }

    public init(host: String, pid: Int32, token: String) {
        self.host = host
        self.pid = pid
        self.token = token
    }

    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]) else { return nil }
        self.init(host: parts[0..<(parts.count - 2)].joined(separator: ":"), pid: pid, token: String(parts[parts.count - 1]))
    }

    public var description: String { "\(host):\(pid):\(token)" }

    /// True when this owner is a process on this host that no longer exists.
    public var isDeadLocalProcess: Bool {
        guard host == ProcessInfo.processInfo.hostName else { return false }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
