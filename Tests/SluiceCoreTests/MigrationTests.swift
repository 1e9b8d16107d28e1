import Foundation
import Testing
import SluiceStates
@testable import SluiceCore
import SluiceSQLite

@Suite struct MigrationTests {
    @Test func freshFileGetsEverySchemaVersionRecorded() throws {
        let file = TestDatabase()
        _ = try file.store()
        let connection = try Connection(path: file.path)
        #expect(try Migrator().currentVersion(of: connection) == Migrator().latestVersion)
        #expect(try connection.scalarInt("SELECT COUNT(*) FROM sluice_migrations") == Int64(Migrator.embedded.count))
        #expect(try connection.scalarText("PRAGMA journal_mode") == "wal")
    }

    @Test func migratingTwiceChangesNothing() throws {
        let file = TestDatabase()
        _ = try file.store()
        let connection = try Connection(path: file.path)
        #expect(try Migrator().migrate(connection).isEmpty)
    }

    @Test func newerSchemaIsRefusedWithAClearMessage() throws {
        let file = TestDatabase()
        _ = try file.store()
        let connection = try Connection(path: file.path)
        try connection.execute("PRAGMA user_version = 999")
        do {
            _ = try SQLiteStore(file.configuration)
            Issue.record("a newer schema was accepted")
        } catch let failure as Migrator.Failure {
            #expect("\(failure)".contains("newer Sluice"))
            #expect("\(failure)".contains("999"))
        }
    }

    /// Version 4 stops storing the submitted and end lines (made from the row since): the rows
    /// an older binary wrote go, except an end a resume undid, so no line shows twice.
    @Test func storedLifecycleLinesOfOlderFilesAreRemovedOnce() throws {
        let file = TestDatabase()
        let connection = try Connection(path: file.path)
        _ = try Migrator(migrations: Migrator.embedded.filter { $0.version <= 3 }).migrate(connection)
        try connection.execute("""
            INSERT INTO definitions (id, name, version, dialect, source, compiled, checksum, created_at) VALUES (1, 'old', 1, 'builtin', '{}', '{}', 'x', 1);
            INSERT INTO executions (id, uid, definition_id, status, created_at, finished_at, updated_at, error, cause)
                VALUES (1, 'done', 1, 'succeeded', 1, 2, 2, NULL, NULL), (2, 'resumed', 1, 'failed', 1, 5, 5, 'E2', 'second');
            INSERT INTO history (execution_id, at, type) VALUES (1, 1, 'ExecutionSubmitted'), (1, 1.5, 'TaskSucceeded'), (1, 2, 'ExecutionSucceeded');
            INSERT INTO history (execution_id, at, type, details) VALUES
                (2, 1, 'ExecutionSubmitted', NULL), (2, 2, 'ExecutionFailed', '{"error":"E1","cause":"first"}'),
                (2, 3, 'ExecutionResumed', NULL), (2, 4, 'TaskFailed', NULL), (2, 5, 'ExecutionFailed', '{"error":"E2","cause":"second"}');
            """)
        let store = try file.store()
        #expect(try store.history(uid: "done").map(\.type) == ["ExecutionSubmitted", "TaskSucceeded", "ExecutionSucceeded"])
        let resumed = try store.history(uid: "resumed")
        #expect(resumed.map(\.type) == ["ExecutionSubmitted", "ExecutionFailed", "ExecutionResumed", "TaskFailed", "ExecutionFailed"])
        #expect(resumed[1].details?.contains("first") == true)
        #expect(resumed[4].details?.contains("second") == true)
        #expect(try store.historyCount(uid: "resumed") == 5)
    }

    /// Version 5: jobs queued before secret scopes keep resolving every name; finished ones,
    /// and payloads that name no secret, are left as they are.
    @Test func queuedJobsOfOlderFilesKeepTheirSecrets() throws {
        let file = TestDatabase()
        let connection = try Connection(path: file.path)
        _ = try Migrator(migrations: Migrator.embedded.filter { $0.version <= 4 }).migrate(connection)
        try connection.execute("""
            INSERT INTO definitions (id, name, version, dialect, source, compiled, checksum, created_at) VALUES (1, 'old', 1, 'builtin', '{}', '{}', 'x', 1);
            INSERT INTO executions (id, uid, definition_id, status, created_at, updated_at) VALUES (1, 'e', 1, 'running', 1, 1);
            INSERT INTO jobs (id, execution_id, execution_uid, kind, run_at, state, step, task_type, payload, created_at) VALUES
                (1, 1, 'e', 'task', 1, 'ready', 'a', 'http', '{"url":"http://h/${secrets.K}"}', 1),
                (2, 1, 'e', 'task', 1, 'done', 'b', 'http', '{"url":"http://h/${secrets.K}"}', 1),
                (3, 1, 'e', 'task', 1, 'ready', 'c', 'http', '{"url":"http://h/"}', 1);
            """)
        _ = try Migrator().migrate(connection)
        let payloads = try (1...3).map { id in try connection.scalarText("SELECT payload FROM jobs WHERE id = \(id)") ?? "" }
        #expect(SecretScope.allowed(in: JSON(parsing: payloads[0])!) == [SecretScope.everyName])
        #expect(payloads[1] == #"{"url":"http://h/${secrets.K}"}"#)
        #expect(payloads[2] == #"{"url":"http://h/"}"#)
        #expect(try SecretStore(values: ["K": "v"]).resolve("${secrets.K}", allowing: [SecretScope.everyName]) == "v")
    }

    @Test func embeddedMigrationsAreTheFilesInTheRepository() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count == Migrator.embedded.count)
        for (file, migration) in zip(files, Migrator.embedded) {
            #expect(file.hasPrefix(String(format: "%04d", migration.version)))
        }
    }
}
