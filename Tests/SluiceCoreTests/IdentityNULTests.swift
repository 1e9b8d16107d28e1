import Foundation
import Testing
@testable import SluiceCore
import SluiceSQLite

/// A NUL inside a name or key is part of it: SQLite must see the whole string (issue 21).
/// Before strings were bound by their byte count, SQLite stopped reading at the NUL.
@Suite struct IdentityNULTests {
    @Test func idempotencyKeysThatDifferAfterANULDoNotCollide() throws {
        let database = TestDatabase()
        let store = try database.store()
        let first = try store.submit([Submission(definition: "noop", idempotencyKey: "k\u{0}A")], now: now())[0]
        let second = try store.submit([Submission(definition: "noop", idempotencyKey: "k\u{0}B")], now: now())[0]
        #expect(!second.existed)
        #expect(first.uid != second.uid)
        // The same key again is still recognised.
        let again = try store.submit([Submission(definition: "noop", idempotencyKey: "k\u{0}A")], now: now())[0]
        #expect(again.existed && again.uid == first.uid)
    }

    @Test func aDefinitionNameWithANULIsNotItsPrefix() throws {
        let database = TestDatabase()
        let store = try database.store()
        #expect(throws: StoreError.unknownDefinition(name: "noop\u{0}xyz", version: nil)) {
            try store.submit([Submission(definition: "noop\u{0}xyz")], now: now())
        }
        #expect(try store.definition(name: "noop\u{0}xyz", version: nil) == nil)
    }

    @Test func aNamespaceIsStoredWhole() throws {
        let database = TestDatabase()
        let store = try database.store()
        let receipt = try store.submit([Submission(definition: "noop", namespace: "team\u{0}secret")], now: now())[0]
        let record = try #require(try store.execution(uid: receipt.uid))
        #expect(record.namespace == "team\u{0}secret")
        #expect(try store.executions(ExecutionQuery(namespace: "team")).isEmpty)
    }

    @Test func textRoundTripsThroughSQLiteByteForByte() throws {
        let database = TestDatabase()
        let connection = try Connection(path: database.path)
        try connection.execute("CREATE TABLE t (v TEXT)")
        let values = ["", "a\u{0}b", "\u{0}", "é\u{0}ü\u{0}", String(repeating: "x", count: 300) + "\u{0}end"]
        for value in values {
            let insert = try connection.statement("INSERT INTO t (v) VALUES (?)")
            insert.bind(1, value)
            try insert.run()
        }
        let select = try connection.statement("SELECT v, length(CAST(v AS BLOB)), v IS NULL FROM t ORDER BY rowid")
        var read: [String] = []
        while try select.step() {
            read.append(select.text(0) ?? "<nil>")
            #expect(select.int(2) == 0)   // an empty string is bound as text, not NULL
        }
        #expect(read == values)
    }
}
