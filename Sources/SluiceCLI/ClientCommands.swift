import ArgumentParser
import Foundation
import SluiceCore

/// Submits directly into the database file (the HTTP client form comes with the API).
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Start an execution of a definition.")

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Definition name.") var name: String
    @Option(help: "Input as JSON.") var input: String = "{}"
    @Option(help: "Queue to run on.") var queue: String = "default"
    @Option(help: "Higher runs first.") var priority: Int = 0
    @Option(help: "Returns the first execution for a key already used.") var idempotencyKey: String?
    @Option(help: "How many executions to submit (one transaction).") var count: Int = 1

    func run() throws {
        do {
            let store = try database.openStore()
            let submissions = (0..<count).map { i in
                Submission(definition: name, input: input, queue: queue, priority: priority,
                           idempotencyKey: idempotencyKey.map { count == 1 ? $0 : "\($0)-\(i)" })
            }
            let receipts = try store.submit(submissions, now: Date().timeIntervalSince1970)
            for receipt in receipts { print(receipt.uid) }
        } catch {
            fail("\(error)")
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show an execution, or counts by status.")

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Execution id; omit for counts.") var id: String?

    func run() throws {
        do {
            let store = try database.openStore()
            guard let id else {
                let counts = try store.statusCounts()
                print(ExecutionStatus.allCases.map { "\($0.rawValue)=\(counts[$0] ?? 0)" }.joined(separator: " "))
                return
            }
            guard let record = try store.execution(uid: id) else { fail("no execution \(id)", code: 2) }
            print("\(record.uid) \(record.definition)@\(record.version) \(record.status.rawValue) attempts=\(record.attempts)")
            if let output = record.output { print("output: \(output)") }
            if let error = record.error { print("error: \(error): \(record.cause ?? "")") }
            if !record.status.isFinished { throw ExitCode(3) }
            if record.status != .succeeded { throw ExitCode(1) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            fail("\(error)")
        }
    }
}

struct QueuesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queues", abstract: "List queues; pause or resume one.",
                                                    subcommands: [List.self, Pause.self, Resume.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        @OptionGroup var database: DatabaseOptions
        func run() throws {
            do {
                for queue in try database.openStore().queues() {
                    print("\(queue.name) \(queue.paused ? "paused" : "active") ready=\(queue.ready) scheduled=\(queue.scheduled) running=\(queue.running)")
                }
            } catch { fail("\(error)") }
        }
    }

    struct Pause: ParsableCommand {
        @OptionGroup var database: DatabaseOptions
        @Argument var queue: String
        func run() throws {
            do { try database.openStore().setPaused(queue: queue, paused: true, now: Date().timeIntervalSince1970) } catch { fail("\(error)") }
        }
    }

    struct Resume: ParsableCommand {
        @OptionGroup var database: DatabaseOptions
        @Argument var queue: String
        func run() throws {
            do { try database.openStore().setPaused(queue: queue, paused: false, now: Date().timeIntervalSince1970) } catch { fail("\(error)") }
        }
    }
}

struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "health", abstract: "Each component's last heartbeat; exits 1 if one is stale.")

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let records: [HeartbeatRecord]
        do { records = try database.openStore().heartbeats() } catch { fail("\(error)") }
        let now = Date().timeIntervalSince1970
        var stale = false
        for record in records {
            let isStale = record.isStale(now: now)
            stale = stale || isStale
            print(String(format: "%@ %@ age=%.1fs ttl=%.0fs %@", record.component, isStale ? "STALE" : "ok",
                         now - record.beatAt, record.ttl, record.info ?? ""))
        }
        if records.isEmpty { print("no component has beaten yet") }
        if stale || records.isEmpty { throw ExitCode(1) }
    }
}
