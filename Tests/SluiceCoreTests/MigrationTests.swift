import Foundation
import Testing
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
