import Foundation
import SluiceHTTP

/// Process and statistics helpers for the benchmarks.
enum Measurements {
    /// Peak resident set size of this process in MB (VmHWM).
    static func peakRSSMegabytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
            return kb / 1024
        }
        return 0
    }

    /// Current resident set size in MB (VmRSS).
    static func currentRSSMegabytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
        }
        return 0
    }

    /// Resets the peak RSS (VmHWM) to the current RSS, so a later peak measures one phase only.
    static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// CPU seconds (user + system) this process has used, all threads. On a shared box the
    /// CPU spent per job is steadier than wall-clock rates, which other load moves.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// CPU seconds (user + system) of each thread of this process by thread name (threads of
    /// one name summed; Dispatch's workers share theirs). Clock ticks: good to 10 ms, so read
    /// it around a phase of seconds.
    static func cpuSecondsByThread() -> [String: Double] {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var result: [String: Double] = [:]
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return result }
        for task in tasks {
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            let name = String(stat[stat.index(after: open)..<close])
            // After the name: state is field 3, utime and stime are fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            result[name, default: 0] += (user + system) / ticks
        }
        return result
    }

    /// Per-thread CPU between two `cpuSecondsByThread` readings, in µs per job, as
    /// `writer=… http=… other=…` (the engine's writer thread, the curl I/O thread, the rest).
    /// A Dispatch worker that exits between the readings drops out of `other`, which can then
    /// read low; the named threads live as long as the engine.
    static func threadBreakdown(from start: [String: Double], to end: [String: Double], jobs: Int) -> String {
        var writer = 0.0, http = 0.0, other = 0.0
        for (name, seconds) in end {
            let used = seconds - (start[name] ?? 0)
            switch name {
            case ThreadNames.writer: writer += used
            case ThreadNames.http: http += used
            default: other += used
            }
        }
        let perJob = { (seconds: Double) in format(seconds * 1e6 / Double(max(1, jobs))) }
        return "cpu_us_writer=\(perJob(writer)) cpu_us_http_io=\(perJob(http)) cpu_us_other=\(perJob(other))"
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let index = min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[index]
    }

    static func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
}
