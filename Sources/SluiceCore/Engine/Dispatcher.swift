/// Decides what to claim each cycle: for every pool with free capacity, up to that capacity
/// (and the claim batch), but only from queues that may have ready jobs. The hint avoids a
/// claim query per cycle on an empty queue; anything that can make jobs ready sets it again.
struct Dispatcher {
    private(set) var mayHaveReady: [String: Bool]
    let claimBatch: Int

    init(queues: [String], claimBatch: Int) {
        mayHaveReady = Dictionary(uniqueKeysWithValues: queues.map { ($0, true) })
        self.claimBatch = claimBatch
    }

    mutating func markAllMayHaveReady() {
        for key in mayHaveReady.keys { mayHaveReady[key] = true }
    }

    func claims(pools: [WorkerPool]) -> [(queue: String, limit: Int)] {
        pools.compactMap { pool in
            guard mayHaveReady[pool.queue] == true else { return nil }
            let free = min(pool.freeCapacity, claimBatch)
            return free > 0 ? (pool.queue, free) : nil
        }
    }

    /// After a cycle: a queue whose claim came back short is empty (or paused) until told otherwise.
    mutating func update(asked: [(queue: String, limit: Int)], result: CycleResult) {
        for (queue, _) in asked where !result.saturated.contains(queue) {
            mayHaveReady[queue] = false
        }
        if result.createdReady || result.rescued > 0 || result.promoted > 0 { markAllMayHaveReady() }
    }

    var anyMayHaveReady: Bool { mayHaveReady.values.contains(true) }
}
