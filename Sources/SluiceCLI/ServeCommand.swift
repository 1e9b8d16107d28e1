import ArgumentParser
import Dispatch
import Foundation
import SluiceCore

/// Options of the processes that run an engine.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: "Queues to work and their concurrency, e.g. default:8,reports:2.")
    var queues: PoolList = PoolList(argument: "default:8")!

    @Option(name: .long, help: "Seconds a claimed job stays leased before another process may take it.")
    var leaseSeconds: Double = 30

    @Option(name: .long, help: "Seconds running tasks get to finish on SIGTERM/SIGINT before their leases are released.")
    var grace: Double = 10
}

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run everything in one process: queue, dispatcher, workers.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var engine: EngineOptions

    func run() throws {
        try runEngine(role: "serve", database: database, options: engine)
    }
}

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run worker pools only, on a database another process serves.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var engine: EngineOptions

    func run() throws {
        try runEngine(role: "worker", database: database, options: engine)
    }
}

/// Starts an engine and blocks until SIGTERM or SIGINT, then shuts down gracefully.
func runEngine(role: String, database: DatabaseOptions, options: EngineOptions, executors: ExecutorRegistry = ExecutorRegistry()) throws {
    let store: SQLiteStore
    do { store = try database.openStore() } catch { fail("\(error)") }
    let configuration = EngineConfiguration(role: role, pools: options.queues.pools, executors: executors,
                                            leaseSeconds: options.leaseSeconds)
    let engine = Engine(store: store, configuration: configuration)
    engine.start()
    waitForTerminationSignal()
    engine.shutdown(grace: options.grace)
}

/// Blocks the calling thread until SIGTERM or SIGINT arrives.
func waitForTerminationSignal() {
    let semaphore = DispatchSemaphore(value: 0)
    var sources: [DispatchSourceSignal] = []
    for sig in [SIGTERM, SIGINT] {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler { semaphore.signal() }
        source.resume()
        sources.append(source)
    }
    semaphore.wait()
    _ = sources
}
