import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real small filesystem for disk-full tests: a tmpfs of a few megabytes mounted on a fresh
/// directory (root only), unmounted and removed when released.
final class SmallVolume: @unchecked Sendable {
    let path: String

    /// Why a volume cannot be made here, or nil when it can (for `.enabled(if:)`).
    static var unavailableReason: String? {
        getuid() == 0 ? nil : "needs root to mount a tmpfs (uid \(getuid()))"
    }

    init(megabytes: Int) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-small-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let status = SmallVolume.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
        guard status == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw MountFailed(status: status)
        }
    }

    deinit {
        _ = SmallVolume.run("/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    struct MountFailed: Error { let status: Int32 }

    /// Writes a filler file until the volume refuses more; returns its path (delete it to free the space).
    @discardableResult
    func fill() -> String {
        let filler = path + "/filler-\(UUID().uuidString)"
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        let block = [UInt8](repeating: 0x5A, count: 16 * 1024)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        var byte: UInt8 = 0x5A
        while write(fd, &byte, 1) > 0 {}   // the last partial block too
        return filler
    }

    private static func run(_ program: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
