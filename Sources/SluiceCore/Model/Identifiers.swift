import Foundation

/// Time-ordered identifiers (UUIDv7): unique across processes and cheap to index,
/// since new ids land at the right edge of the b-tree.
public enum ExecutionUID {
    public static func make(now: Date = Date()) -> String {
        let millis = UInt64(now.timeIntervalSince1970 * 1000)
        var random = SystemRandomNumberGenerator()
        let high = random.next() as UInt64
        let low = random.next() as UInt64
        // 48 bits of time, version 7, 12 random bits, variant 10, 62 random bits.
        let timeAndVersion = (millis << 16) | 0x7000 | (high & 0x0fff)
        let variantAndRandom = (low & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000
        var bytes = [UInt8](repeating: 0, count: 36)
        let digits = Array("0123456789abcdef".utf8)
        var position = 0
        func put(_ value: UInt64, nibbles: Int) {
            for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    bytes[position] = UInt8(ascii: "-")
                    position += 1
                }
                bytes[position] = digits[Int((value >> UInt64(shift)) & 0xf)]
                position += 1
            }
        }
        put(timeAndVersion, nibbles: 16)
        put(variantAndRandom, nibbles: 16)
        return String(decoding: bytes, as: UTF8.self)
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

    /// `host:pid:token`, as stored in `jobs.lease_owner`. Made once: every job's claim and
    /// finishing update binds it, on the single writer's thread.
    public let description: String

    public init(host: String, pid: Int32, token: String) {
        self.host = host
        self.pid = pid
        self.token = token
        description = "\(host):\(pid):\(token)"
    }

    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]) else { return nil }
        self.init(host: parts[0..<(parts.count - 2)].joined(separator: ":"), pid: pid, token: String(parts[parts.count - 1]))
    }

    /// True when this owner is a process on this host that no longer exists.
    public var isDeadLocalProcess: Bool {
        guard host == ProcessInfo.processInfo.hostName else { return false }
        if pid == getpid() { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
