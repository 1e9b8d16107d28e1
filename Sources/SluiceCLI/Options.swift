import ArgumentParser
import Foundation
import SluiceCore

/// The database options every command that opens the file shares.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The SQLite database file.")
    var db: String = "sluice.sqlite"

    @Option(name: .long, help: "full (default: a submit or result survives a power cut) or normal (faster; the last commits may be lost on power loss).")
    var sync: SyncModeArgument = .full

    var configuration: StoreConfiguration { StoreConfiguration(path: db, sync: sync.mode) }

    /// Opens and migrates the store, with the built-in definitions present.
    func openStore(environmentAllowlist: [String] = []) throws -> SQLiteStore {
        let store = try SQLiteStore(configuration, catalog: ProgramCatalog(environmentAllowlist: environmentAllowlist))
        try BuiltinDefinitions.register(in: store)
        return store
    }
}

enum SyncModeArgument: String, ExpressibleByArgument, CaseIterable {
    case full, normal
    var mode: SyncMode { self == .full ? .full : .normal }
}

/// Queue specs on the command line: `default:8,reports:2`; a queue without `:N` takes the
/// `--concurrency` value.
struct PoolList: ExpressibleByArgument, CustomStringConvertible {
    var description: String {
        pools.map { unsized.contains($0.queue) ? $0.queue : "\($0.queue):\($0.concurrency)" }.joined(separator: ",")
    }

    let pools: [EngineConfiguration.Pool]
    /// Which queues named no concurrency of their own.
    let unsized: Set<String>

    func with(defaultConcurrency: Int?) -> [EngineConfiguration.Pool] {
        guard let defaultConcurrency else { return pools }
        return pools.map { unsized.contains($0.queue) ? EngineConfiguration.Pool(queue: $0.queue, concurrency: defaultConcurrency) : $0 }
    }

    init?(argument: String) {
        var pools: [EngineConfiguration.Pool] = []
        var unsized: Set<String> = []
        for item in argument.split(separator: ",") {
            let parts = item.split(separator: ":")
            guard let name = parts.first, !name.isEmpty else { return nil }
            let concurrency = parts.count > 1 ? Int(parts[1]) : nil
            if parts.count > 1 && concurrency == nil { return nil }
            if concurrency == nil { unsized.insert(String(name)) }
            pools.append(EngineConfiguration.Pool(queue: String(name), concurrency: concurrency ?? 8))
        }
        guard !pools.isEmpty else { return nil }
        self.pools = pools
        self.unsized = unsized
    }
}

/// Prints to standard error and exits with `code`.
func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("sluice: \(message)\n".utf8))
    exit(code)
}
