import ArgumentParser

/// Benchmarks (`queue`, `claim`) and the peer-benchmark adapter commands that
/// `../shared/bench/peers/ADAPTER.md` specifies (info, setup, reset, enqueue, worker, status, export, teardown).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the queue; speak the peer benchmark's adapter contract.",
        subcommands: [BenchQueue.self, BenchClaim.self, BenchAPI.self, BenchScan.self, BenchHTTP.self,
                      AdapterInfo.self, AdapterSetup.self, AdapterReset.self, AdapterEnqueue.self,
                      AdapterWorker.self, AdapterStatus.self, AdapterExport.self, AdapterTeardown.self]
    )
}
