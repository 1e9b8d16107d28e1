import ArgumentParser
import Dispatch
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import SluiceAPI
import SluiceCore
import SluiceHTTP

/// Options of the processes that run an engine.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: "Queues to work and their concurrency, e.g. default:8,reports:2 (or names only, with --concurrency).")
    var queues: PoolList = PoolList(argument: "default")!

    @Option(name: .long, help: "Task bodies at once for each queue listed without its own :N (default 8).")
    var concurrency: Int?

    var pools: [EngineConfiguration.Pool] { queues.with(defaultConcurrency: concurrency) }

    @Option(name: .long, help: "Seconds a claimed job stays leased before another process may take it.")
    var leaseSeconds: Double = 30

    @Option(name: .long, help: "Seconds running tasks get to finish on SIGTERM/SIGINT before their leases are released.")
    var grace: Double = 10

    @Option(name: .long, help: "Nice value of the engine's writer thread, e.g. 10: HTTP-heavy drains run ~15% faster as it yields to the threads waiting on the network, at the cost of pickup latency and of CPU share against busy neighbours.")
    var writerNice: Int32 = 0

    @Option(name: .long, help: "Folder of workflow, trigger and schedule files (JSON or YAML) to load at start.")
    var definitions: String?

    @Flag(name: .long, help: "Let cli tasks run commands on this host (off by default).")
    var allowCommands = false

    @Option(name: .long, help: "Environment variables templates may read as ${env.NAME}, comma-separated.")
    var envAllow: String = ""

    @Option(name: .long, help: "File of NAME=value lines (or a JSON object) for ${secrets.NAME}; SLUICE_SECRET_NAME variables count too.")
    var secretsFile: String?

    var environmentAllowlist: [String] { envAllow.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
}

/// Options of the processes that serve the HTTP API.
struct ListenOptions: ParsableArguments {
    @Option(name: .long, help: "Address to listen on. Anything but loopback needs a token.")
    var listen: String = "127.0.0.1:8080"

    @Option(name: .long, help: "Bearer token every request must carry (default: $SLUICE_TOKEN).")
    var token: String?

    @Option(name: .long, help: "Largest request body accepted, in bytes.")
    var maxBodyBytes: Int = 1 << 20

    @Option(name: .long, help: "Seconds a connection may wait with no request before it is closed.")
    var idleTimeout: Double = 60

    @Option(name: .long, help: "Seconds a request head may take from its first byte; then 408 and close.")
    var headerTimeout: Double = 10

    @Option(name: .long, help: "Seconds from the end of a request head by which its whole body must arrive; then the connection is closed.")
    var bodyTimeout: Double = 30

    @Option(name: .long, help: "Seconds a response may wait on a client that reads none of it (socket buffers full) before the connection is closed.")
    var writeTimeout: Double = 60

    @Option(name: .long, help: "Connections served at once; one more gets a 503 (default: min(4096, half the descriptors the engine leaves free)).")
    var maxConnections: Int?

    /// The API's configuration; `pools` size the descriptors the engine keeps for its own HTTP
    /// tasks (curl's connection cap), which the default connection cap leaves alone.
    func configuration(pools: [EngineConfiguration.Pool] = []) throws -> APIConfiguration {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen takes HOST:PORT, got \(listen)")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let token = token ?? ProcessInfo.processInfo.environment["SLUICE_TOKEN"]
        let reserved = curlConnectionCap(pools: pools) + 64
        let limits = ConnectionLimits(idleSeconds: idleTimeout, headerSeconds: headerTimeout, bodySeconds: bodyTimeout,
                                      writeSeconds: writeTimeout,
                                      maxConnections: maxConnections ?? ConnectionLimits.defaultMaxConnections(reserved: reserved))
        return APIConfiguration(host: host, port: port, token: token, maxBodyBytes: maxBodyBytes, limits: limits)
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run everything in one process: API, queue, dispatcher, workers.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var listen: ListenOptions

    func run() async throws {
        try await runProcess(role: "serve", database: database, engine: engine, pools: engine.pools, api: listen.configuration(pools: engine.pools))
    }
}

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "server", abstract: "Run the API only; workers run apart (sluice worker) on the same file.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var engine: EngineOptions
    @OptionGroup var listen: ListenOptions

    func run() async throws {
        try await runProcess(role: "server", database: database, engine: engine, pools: [], api: listen.configuration())
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run worker pools only, on a database another process serves.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var engine: EngineOptions

    func run() async throws {
        try await runProcess(role: "worker", database: database, engine: engine, pools: engine.pools, api: nil)
    }
}

/// Starts an engine (and the API when asked) and runs until SIGTERM or SIGINT, then shuts
/// down gracefully: the API stops accepting, running tasks get the grace period.
func runProcess(role: String, database: DatabaseOptions, engine options: EngineOptions, pools: [EngineConfiguration.Pool],
                api: APIConfiguration?) async throws {
    var logger = Logger(label: "sluice")
    logger.logLevel = .warning
    let store: SQLiteStore
    do { store = try database.openStore(environmentAllowlist: options.environmentAllowlist) } catch { fail("\(error)") }
    let registry = PrometheusCollectorRegistry()
    let metrics = EngineMetrics(factory: APIServer.metricsFactory(registry))
    let secrets: SecretStore
    do { secrets = try SecretStore.load(file: options.secretsFile) } catch { fail("\(error)", code: 2) }
    let client = CurlMultiClient(maxTotalConnections: curlConnectionCap(pools: pools))
    let engine = Engine(store: store, configuration: EngineConfiguration(
        role: role, pools: pools, executors: .standard(metrics: metrics, httpClient: client, allowCommands: options.allowCommands, secrets: secrets),
        leaseSeconds: options.leaseSeconds,
        metrics: metrics, writerNice: options.writerNice))
    var services: [any Service] = [EngineService(engine: engine, grace: options.grace)]
    if let directory = options.definitions, role != "worker" {
        let (folder, errors) = DefinitionFolder.load(directory)
        if !errors.isEmpty { fail(errors.map(\.description).joined(separator: "\n"), code: 2) }
        do {
            for workflow in folder.workflows {
                let definition = try DefinitionCompiler.compile(text: workflow.text, value: workflow.value, file: workflow.file)
                let version = try store.register(definition: definition, now: Date().timeIntervalSince1970)
                FileHandle.standardError.write(Data("sluice: workflow \(definition.name) version \(version)\n".utf8))
            }
        } catch {
            fail("\(error)", code: 2)
        }
        let scanner = TriggerScanner(engine: engine, triggers: folder.triggers, role: role)
        let scheduler = Scheduler(engine: engine, schedules: folder.schedules, role: role)
        services.append(BackgroundService(start: { scanner.start(); scheduler.start() },
                                          stop: { scanner.stop(); scheduler.stop() }))
        FileHandle.standardError.write(Data("sluice: loaded \(folder.triggers.count) triggers, \(folder.schedules.count) schedules from \(directory)\n".utf8))
    }
    if let api {
        let server: APIServer
        do { server = try APIServer(engine: engine, configuration: api, registry: registry) } catch { fail("\(error)") }
        services.append(server.application(logger: logger) { port in
            FileHandle.standardError.write(Data("sluice: \(role) listening on http://\(server.listenAddress.urlHost):\(port)\n".utf8))
        })
    }
    let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

/// Connections curl may hold for the pools' HTTP tasks: every task body the pools may run at
/// once can have its request on the wire (curl would otherwise queue those above its cap), with
/// room for the connections closing meanwhile.
func curlConnectionCap(pools: [EngineConfiguration.Pool]) -> Int {
    max(512, 2 * pools.reduce(0) { $0 + $1.concurrency })
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

/// Threads that run beside the engine (scanner, scheduler), started and stopped with the group.
struct BackgroundService: Service {
    let start: @Sendable () -> Void
    let stop: @Sendable () -> Void

    func run() async throws {
        start()
        try? await gracefulShutdown()
        stop()
    }
}
