import Foundation

/// Writes `EmbeddedMigrations.swift`: one `(version, name, sql)` entry per numbered `.sql` file.
/// Usage: EmbedMigrationsTool OUTPUT FILE...
let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: EmbedMigrationsTool OUTPUT FILE...\n".utf8))
    exit(2)
}
var body = "// Generated from migrations/*.sql by the EmbedMigrations plugin. Do not edit.\n"
body += "let embeddedMigrations: [(version: Int, name: String, sql: String)] = [\n"
for path in arguments.dropFirst() {
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    guard let version = Int(name.prefix(while: \.isNumber)) else {
        FileHandle.standardError.write(Data("\(path): migration files must start with a number\n".utf8))
        exit(1)
    }
    let sql = try String(contentsOfFile: path, encoding: .utf8)
    // A raw string with enough #s that no sequence in the SQL can close it.
    var fence = "#"
    while sql.contains("\"" + fence) { fence += "#" }
    body += "    (\(version), \"\(name)\", \(fence)\"\"\"\n\(sql)\n\"\"\"\(fence)),\n"
}
body += "]\n"
try body.write(toFile: output, atomically: true, encoding: .utf8)
