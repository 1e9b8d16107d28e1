import Foundation
import SluiceStates

/// Runs `cli` tasks: `{"command": [program, args…], "timeoutSeconds": N}` — an argv, never a
/// shell. Stdout and stderr are kept up to a cap (with a truncated flag), the exit code
/// recorded; a child still running at its timeout is killed (SIGKILL), with every process it
/// started in its group (`ChildProcess`).
/// Off unless the server was started with `--allow-commands`.
public struct CommandExecutor: TaskExecutor {
    public let allowed: Bool
    public let maxOutputBytes: Int
    public let secrets: SecretStore

    public init(allowed: Bool, maxOutputBytes: Int = 64 * 1024, secrets: SecretStore = SecretStore()) {
        self.allowed = allowed
        self.maxOutputBytes = maxOutputBytes
        self.secrets = secrets
    }

    /// Output collected from one pipe, capped.
    final class Capture: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        private(set) var truncated = false
        let cap: Int

        init(cap: Int) { self.cap = cap }

        func append(_ chunk: Data) {
            lock.lock()
            defer { lock.unlock() }
            let room = cap - data.count
            if chunk.count <= room { data.append(chunk) } else {
                if room > 0 { data.append(chunk.prefix(room)) }
                truncated = true
            }
        }

        var text: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: data, as: UTF8.self)
        }
    }

    public func execute(_ job: ClaimedJob, completion report: @escaping @Sendable (TaskOutcome) -> Void) {
        let started = Date().timeIntervalSince1970
        var command: [String]?
        // The child's output and errors may echo a secret (a failed start names the program):
        // every outcome passes the task's redactor, in this one place. `none` until secrets resolve.
        var redactor = Redactor.none
        func fail(_ error: String, _ cause: String, retryable: Bool) {
            // The command, when there is one, so a result shows what was refused (Mender's job shape reads it).
            let record = command.map { JSONText.object(["command": .raw(Self.commandJSON($0)), "error": .string(cause)]) }
            report(redactor.redact(TaskOutcome(job: job, result: .failed(error: error, cause: cause, retryable: retryable, retryAfter: nil),
                                               startedAt: started, finishedAt: Date().timeIntervalSince1970, record: record)))
        }
        guard let payload = SluiceStates.JSON(parsing: job.payload), case let .array(items)? = payload["command"], !items.isEmpty else {
            return fail("States.Runtime", "cli task needs a non-empty command list", retryable: false)
        }
        // The recorded command keeps `${secrets.…}`; only the child sees the values.
        let argv = items.map(\.plainText)
        command = argv
        guard allowed else {
            return fail("Sluice.CommandsDisabled", "command tasks are off; start the server with --allow-commands", retryable: false)
        }
        let resolved: [String]
        let granted = SecretScope.allowed(in: payload)
        do { resolved = try argv.map { try secrets.resolve($0, allowing: granted) } } catch {
            return fail("Sluice.MissingSecret", "\(error)", retryable: false)
        }
        redactor = secrets.redactor(for: granted)
        let taskRedactor = redactor
        let completion = taskRedactor.wrapping(report)
        let timeout = payload["timeoutSeconds"]?.number ?? 60
        let child: ChildProcess
        do { child = try ChildProcess(executable: Self.resolve(resolved[0]), arguments: Array(resolved.dropFirst())) } catch {
            return fail("Sluice.Command.NotStarted", "\(error)", retryable: false)
        }
        let out = Capture(cap: maxOutputBytes), err = Capture(cap: maxOutputBytes)
        let readers = DispatchGroup()
        let givenUp = Flag()
        for (descriptor, capture) in [(child.stdout, out), (child.stderr, err)] {
            readers.enter()
            // A reader thread per pipe drains it to the end, so a chatty child never blocks on a
            // full pipe. Threads of their own: blocking reads on Dispatch's global queue starve
            // it, and the timeout timer below then fires seconds late.
            Thread.detachNewThread {
                ChildProcess.drain(descriptor, into: capture, until: { givenUp.isSet })
                readers.leave()
            }
        }
        // The whole group, not only the child: whatever it started dies with it.
        let deadline = Deadline(DispatchWorkItem { child.killGroup() })
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: deadline.item)
        Thread.detachNewThread {
            let exit = child.wait()
            deadline.cancel()   // a four-hour timer need not hold the child that long
            // A descendant that left the group (setsid) may still hold the pipes open: what it
            // wrote so far is kept, and neither the task nor the readers wait on it for long.
            if readers.wait(timeout: .now() + Self.drainGraceSeconds) == .timedOut {
                givenUp.set()
                readers.wait()
            }
            let finished = Date().timeIntervalSince1970
            let record = JSONText.object([
                "command": .raw(Self.commandJSON(argv)),
                "exitCode": { if case let .exited(code) = exit { return .int(Int(code)) } else { return .null } }(),
                "signal": { if case let .signalled(signal) = exit { return .int(Int(signal)) } else { return .null } }(),
                "stdout": .string(taskRedactor.redact(out.text, truncated: out.truncated)),
                "stderr": .string(taskRedactor.redact(err.text, truncated: err.truncated)),
                "truncated": .bool(out.truncated || err.truncated), "durationMs": .int(Int((finished - started) * 1000)),
            ])
            switch exit {
            case _ where child.wasKilled:
                completion(TaskOutcome(job: job, result: .failed(error: "States.Timeout", cause: "\(argv[0]) still running after \(timeout) s; killed",
                                                                 retryable: true, retryAfter: nil),
                                       startedAt: started, finishedAt: finished, record: record))
            case .exited(0):
                completion(TaskOutcome(job: job, result: .succeeded(output: record), startedAt: started, finishedAt: finished, record: record))
            case let .exited(code), let .signalled(code):
                let how = exit == .exited(code) ? "exited with \(code)" : "killed by signal \(code)"
                completion(TaskOutcome(job: job, result: .failed(error: "Sluice.Command.ExitCode.\(code)",
                                                                 cause: "\(argv[0]) \(how): \(String(taskRedactor.redact(err.text, truncated: err.truncated).suffix(512)))",
                                                                 retryable: true, retryAfter: nil),
                                       startedAt: started, finishedAt: finished, record: record))
            case .lost:
                completion(TaskOutcome(job: job, result: .failed(error: "Sluice.Command.Lost", cause: "\(argv[0]): its exit status could not be read",
                                                                 retryable: true, retryAfter: nil),
                                       startedAt: started, finishedAt: finished, record: record))
            }
        }
    }

    /// How long a finished command's output may still be arriving from a descendant.
    static let drainGraceSeconds = 2.0

    /// The argv as recorded: a JSON array of strings, placeholders as written.
    static func commandJSON(_ argv: [String]) -> String {
        SluiceStates.JSON.array(argv.map(SluiceStates.JSON.string)).description
    }

    /// A bare program name is looked up on PATH, as a shell would (but no shell runs).
    static func resolve(_ program: String) -> String {
        if program.contains("/") { return program }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return program
    }

    /// The timeout's work item, handed to the thread that cancels it once the command ends
    /// (`DispatchWorkItem` is thread-safe but not marked Sendable).
    final class Deadline: @unchecked Sendable {
        let item: DispatchWorkItem
        init(_ item: DispatchWorkItem) { self.item = item }
        func cancel() { item.cancel() }
    }

    /// A flag set once, read from other threads.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.lock(); value = true; lock.unlock() }
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    }
}
