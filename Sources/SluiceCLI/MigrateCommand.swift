import ArgumentParser
import SluiceCore
import SluiceSQLite

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Create or upgrade the database schema.")

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        do {
            let connection = try Connection(path: database.db)
            let migrator = Migrator()
            let before = try migrator.currentVersion(of: connection)
            let applied = try migrator.migrate(connection)
            if applied.isEmpty {
                print("schema is at version \(before); nothing to do")
            } else {
                print("migrated \(database.db) from version \(before) to \(applied.last!) (applied \(applied.map(String.init).joined(separator: ", ")))")
            }
        } catch {
            fail("\(error)")
        }
    }
}
