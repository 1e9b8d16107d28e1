import Foundation
import Testing

/// Issue 21, found in review: numbers in a definition that trapped a conversion or an integer
/// operation and ended the process (SIGILL, exit 132) instead of failing the definition or the
/// run. Run as the binary, so a trap is seen as a signal and does not end the test process.
@Suite struct HostileNumberCrashTests {
    struct Run {
        let status: Int32
        let signalled: Bool
        let output: String
    }

    /// `sluice <command> <file>` on `definition`; `extra` are the arguments after the file.
    static func sluice(_ command: String, _ definition: String, _ extra: [String] = []) throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("machine.json").path
        try definition.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = SluiceProcess.binary
        process.arguments = [command, path] + extra
        // No backtrace of a crash: it takes seconds and the status says enough.
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                   output: String(decoding: data, as: UTF8.self))
    }

    /// `Int(1e300)` in the parser trapped before the check that refuses it could run: a
    /// 150-byte definition ended `sluice validate`, `sluice run` and the server it was posted to.
    @Test func aMapMaxConcurrencyOutOfRangeIsRefusedNotATrap() throws {
        let machine = #"""
            {"StartAt":"A","States":{"A":{"Type":"Map","MaxConcurrency":1e300,
              "ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}},"End":true}}}
            """#
        let validated = try Self.sluice("validate", machine)
        #expect(!validated.signalled, "validate died by signal \(validated.status)")
        #expect(validated.status == 1)
        #expect(validated.output.contains("/States/A/MaxConcurrency"))
        let ran = try Self.sluice("run", machine, ["--input", "[]"])
        #expect(!ran.signalled, "run died by signal \(ran.status)")
        #expect(ran.status != 0)
    }

    /// States.ArrayRange counted its items as `Int(span / step)` before the 1,000-item bound:
    /// a span of 1.8e19 trapped the conversion.
    @Test func anArrayRangeSpanningTheWholeIntegerRangeFailsTheRun() throws {
        let machine = #"""
            {"StartAt":"A","States":{"A":{"Type":"Pass",
              "Parameters":{"r.$":"States.ArrayRange(-9000000000000000000, 9000000000000000000, 1)"},"End":true}}}
            """#
        let ran = try Self.sluice("run", machine)
        #expect(!ran.signalled, "run died by signal \(ran.status)")
        #expect(ran.status == 1)
        #expect(ran.output.contains("States.IntrinsicFailure"))
    }

    /// Items near the ends of the range: `first + index * step` trapped on `index * step`
    /// (2 * 2^62) although every item is within 64 bits.
    @Test func anArrayRangeNearTheIntegerLimitsGivesItsItemsWithoutOverflow() throws {
        let machine = #"""
            {"StartAt":"A","States":{"A":{"Type":"Pass",
              "Parameters":{"r.$":"States.ArrayRange(-4611686018427387904, 4611686018427387904, 4611686018427387904)"},"End":true}}}
            """#
        let ran = try Self.sluice("run", machine)
        #expect(!ran.signalled, "run died by signal \(ran.status)")
        #expect(ran.status == 0)
        #expect(ran.output.contains("[-4611686018427387904,0,4611686018427387904]"))
    }

    /// StringMatches recursed once per character of the text: a 100,000-character input (well
    /// under the 256 KiB payload bound) ended the process with SIGSEGV.
    @Test func aChoiceStringMatchesOnALongStringDoesNotOverflowTheStack() throws {
        let machine = #"""
            {"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.s","StringMatches":"a*b","Next":"Y"}],"Default":"N"},
              "Y":{"Type":"Pass","Result":"matched","End":true},"N":{"Type":"Pass","Result":"not matched","End":true}}}
            """#
        let long = String(repeating: "a", count: 100_000)
        let ran = try Self.sluice("run", machine, ["--input", #"{"s":"\#(long)"}"#])
        #expect(!ran.signalled, "run died by signal \(ran.status)")
        #expect(ran.status == 0)
        #expect(ran.output.contains("\"not matched\""))
        let matched = try Self.sluice("run", machine, ["--input", #"{"s":"\#(long)b"}"#])
        #expect(matched.status == 0)
        #expect(matched.output.contains("\"matched\""))
    }

    /// A ResultPath was placed by recursing once per segment: 100,000 segments (a 200 KB
    /// definition, accepted by validate) ended `sluice run` with SIGSEGV.
    @Test func aResultPathOfATooManySegmentsFailsTheRunNotTheProcess() throws {
        let path = "$" + String(repeating: ".a", count: 100_000)
        let machine = #"{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"ResultPath":"\#(path)","End":true}}}"#
        let ran = try Self.sluice("run", machine)
        #expect(!ran.signalled, "run died by signal \(ran.status)")
        #expect(ran.status == 1)
        #expect(ran.output.contains("States.DataLimitExceeded"))
    }
}
