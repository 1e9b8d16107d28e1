import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A command's child process in a process group of its own, so a timeout kills everything it
/// started (`sh -c "sleep 600"` included), not just the program we ran.
///
/// Foundation's `Process` leaves the child in our group and inherits the spawning thread's
/// signal mask; `posix_spawn` here gives it a fresh group (`POSIX_SPAWN_SETPGROUP`), default
/// signal handling and an empty mask, `/dev/null` as stdin and two pipes for stdout and stderr.
/// Only those three descriptors reach it: the pipes are made close-on-exec and `dup2` clears
/// that flag on the copies only.
final class ChildProcess: @unchecked Sendable {
    enum Exit: Equatable {
        case exited(Int32)
        case signalled(Int32)
    }

    struct SpawnError: Error, CustomStringConvertible {
        let program: String
        let code: Int32
        var description: String { "cannot start \(program): \(String(cString: strerror(code)))" }
    }

    let pid: pid_t
    /// Read ends of the child's stdout and stderr (ours to read and close).
    let stdout: Int32
    let stderr: Int32
    private let lock = NSLock()
    /// Set once the child has exited; from then on its pid and group may be reused.
    private var reaped = false

    init(executable: String, arguments: [String]) throws(SpawnError) {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard Self.makePipe(&outPipe) else { throw SpawnError(program: executable, code: errno) }
        guard Self.makePipe(&errPipe) else {
            let code = errno
            close(outPipe[0]); close(outPipe[1])
            throw SpawnError(program: executable, code: code)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), empty = sigset_t()
        sigfillset(&defaults)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let strings = ([executable] + arguments).map { strdup($0) }
        defer { strings.forEach { free($0) } }
        let argv = strings + [nil]
        var child: pid_t = 0
        let code = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        close(outPipe[1])
        close(errPipe[1])
        guard code == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw SpawnError(program: executable, code: code)
        }
        pid = child
        stdout = outPipe[0]
        stderr = errPipe[0]
    }

    /// A pipe whose ends are close-on-exec (Glibc's module has no `pipe2`).
    private static func makePipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Blocks until the child exits, then reaps it.
    func wait() -> Exit {
        // Wait without reaping first: until `reaped` is set the pid (and so the group) stays
        // the child's, and `killGroup` cannot hit a stranger that got the number later.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        lock.lock()
        reaped = true
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        lock.unlock()
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    /// SIGKILL to the child's whole group; false when it had already exited.
    @discardableResult
    func killGroup() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !reaped else { return false }
        kill(-pid, SIGKILL)
        return true
    }

    /// Reads `descriptor` to its end into `capture`, then closes it.
    static func drain(_ descriptor: Int32, into capture: CommandExecutor.Capture) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                capture.append(Data(buffer[0..<count]))
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(descriptor)
    }
}
