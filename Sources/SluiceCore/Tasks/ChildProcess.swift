import Foundation
import SpawnShim
#if canImport(Glibc)
import Glibc
#endif

/// A command's child process in a process group of its own, so that a timeout, and the end of
/// the command, take everything it started with it (`sh -c "sleep 600 &"` included).
///
/// Foundation's `Process` leaves the child in our group and inherits the spawning thread's
/// signal mask; `posix_spawn` here gives it a fresh group (`POSIX_SPAWN_SETPGROUP`), default
/// signal handling and an empty mask, `/dev/null` as stdin, the two output pipes, no other
/// descriptor (`addclosefrom_np(3)`), and our environment without Sluice's secrets and token.
final class ChildProcess: @unchecked Sendable {
    enum Exit: Equatable {
        case exited(Int32)
        case signalled(Int32)
        /// `waitpid` failed (someone else reaped it): how it ended is unknown.
        case lost
    }

    struct SpawnError: Error, CustomStringConvertible {
        let program: String
        let code: Int32
        var description: String { "cannot start \(program): \(String(cString: strerror(code)))" }
    }

    let pid: pid_t
    /// Read ends of the child's stdout and stderr, closed by `drain`.
    let stdout: Int32
    let stderr: Int32
    private let lock = NSLock()
    /// Set once the child is reaped; from then on its pid and group may belong to others.
    private var reaped = false
    /// The group was killed by `killGroup` before the child ended on its own.
    private var killedEarly = false

    /// Pipe creation and the spawn happen under one lock, so a pipe another command is still
    /// making close-on-exec is never inherited by this child (the close-from action covers the rest).
    private static let spawnLock = NSLock()

    init(executable: String, arguments: [String]) throws(SpawnError) {
        Self.spawnLock.lock()
        defer { Self.spawnLock.unlock() }
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
        sluice_spawn_closefrom(&actions, 3)
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
        let environment = Self.childEnvironment().map { strdup($0) }
        defer { (strings + environment).forEach { free($0) } }
        var child: pid_t = 0
        let code = posix_spawn(&child, executable, &actions, &attributes, strings + [nil], environment + [nil])
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

    /// Our environment minus what only Sluice may read: `SLUICE_SECRET_*` (a command sees a
    /// secret only where its definition names it) and the API token.
    static func childEnvironment() -> [String] {
        ProcessInfo.processInfo.environment
            .filter { !$0.key.hasPrefix("SLUICE_SECRET_") && $0.key != "SLUICE_TOKEN" }
            .map { "\($0.key)=\($0.value)" }
    }

    /// A pipe whose ends are close-on-exec (Glibc's module has no `pipe2`).
    private static func makePipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Blocks until the child exits; then kills what it left in its group and reaps it.
    func wait() -> Exit {
        // Wait without reaping first: until `reaped` is set the pid (and so the group) stays
        // the child's, and a group kill cannot hit a stranger that got the number later.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        lock.lock()
        defer { lock.unlock() }
        kill(-pid, SIGKILL)   // the command is over: nothing it started outlives its task
        reaped = true
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
        guard result == pid else { return .lost }
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    /// SIGKILL to the child's whole group, if it is still running: true when this kill is what
    /// ended it (a timeout), false when it had already exited.
    @discardableResult
    func killGroup() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !reaped else { return false }
        var info = siginfo_t()
        // Exited but not yet reaped counts as ended on its own.
        if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid { return false }
        kill(-pid, SIGKILL)
        killedEarly = true
        return true
    }

    /// Whether `killGroup` ended the child (read after `wait`).
    var wasKilled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return killedEarly
    }

    /// Reads `descriptor` into `capture` until its end or until `deadline` says stop (checked
    /// every 100 ms), then closes it: a descendant that escaped the group cannot hold a
    /// reader, and its descriptor, forever.
    static func drain(_ descriptor: Int32, into capture: CommandExecutor.Capture, until stop: @escaping @Sendable () -> Bool) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&poller, 1, 100)
            if ready == 0 {
                if stop() { break }
                continue
            }
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
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
