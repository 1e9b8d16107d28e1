import Testing
@testable import SluiceCore

/// Issue 21, found in review: a task's `maxBodyBytes` raised the executor's cap on a response
/// body (256 KiB) to anything below 1e18, so one definition could make a response of gigabytes
/// be held in memory whole. A task may lower the cap, not raise it.
@Suite struct HTTPResponseCapTests {
    static func cap(_ given: String) throws -> Int {
        try HTTPExecutor.decode(#"{"url": "http://127.0.0.1:1/", \#(given)}"#, idempotencyKey: "k", maxBodyBytes: 262_144)
            .request.maxResponseBodyBytes
    }

    @Test func aTaskCannotRaiseTheResponseBodyCap() throws {
        #expect(try Self.cap(#""maxBodyBytes": 1000000000000"#) == 262_144)
        #expect(try Self.cap(#""maxBodyBytes": 1e17"#) == 262_144)
    }

    @Test func aTaskMayLowerItAndNoneKeepsTheExecutors() throws {
        #expect(try Self.cap(#""maxBodyBytes": 12"#) == 12)
        #expect(try Self.cap(#""method": "GET""#) == 262_144)
    }
}
