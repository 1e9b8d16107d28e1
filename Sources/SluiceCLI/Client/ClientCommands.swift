import ArgumentParser
import Foundation

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Start an execution; with --wait, follow it and exit with its outcome.")

    @OptionGroup var server: ServerOptions
    @Argument(help: "Definition name.") var name: String
    @Option(help: "Input as JSON.") var input: String = "{}"
    @Option(help: "Definition version (default: latest).") var version: Int?
    @Option(help: "Queue to run on.") var queue: String?
    @Option(help: "Higher runs first.") var priority: Int?
    @Option(help: "Namespace (expands resource names).") var namespace: String?
    @Option(help: "A second submit with the same key returns the first execution.") var idempotencyKey: String?
    @Option(help: "Start no earlier than this RFC 3339 time.") var startAt: String?
    @Flag(help: "Wait until it finishes; print its output; exit 0 only if it succeeded.") var wait = false

    func run() async throws {
        guard let inputValue = try? JSONSerialization.jsonObject(with: Data(input.utf8), options: [.fragmentsAllowed]) else {
            fail("--input is not valid JSON", code: ClientExit.refused)
        }
        var body: [String: Any] = ["definition": name, "input": inputValue]
        body["version"] = version
        body["queue"] = queue
        body["priority"] = priority
        body["namespace"] = namespace
        body["idempotencyKey"] = idempotencyKey
        body["startAt"] = startAt
        let client = server.client
        let reply = client.expect(await client.send("POST", "/v1/executions", body: body), [200, 201])
        guard let id = reply.object["id"] as? String else { fail("unexpected reply: \(reply.text)", code: ClientExit.unreachable) }
        if !wait {
            print(server.json ? reply.text : id)
            return
        }
        try await follow(client: client, id: id, json: server.json, progress: false)
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show an execution; --follow until it finishes.")

    @OptionGroup var server: ServerOptions
    @Argument(help: "Execution id.") var id: String
    @Flag(help: "Keep a live progress line until it finishes.") var follow = false

    func run() async throws {
        let client = server.client
        if follow {
            try await SluiceCLI.follow(client: client, id: id, json: server.json, progress: true)
            return
        }
        let reply = client.expect(await client.send("GET", "/v1/executions/\(id)"), [200])
        print(server.json ? reply.text : describe(reply.object))
        throw ExitCode(executionExitCode(reply.object["status"] as? String))
    }
}

/// Polls an execution until it finishes, printing a progress line (terminal) or nothing; then
/// prints the outcome and exits with its code.
func follow(client: APIClient, id: String, json: Bool, progress: Bool) async throws {
    var last = ""
    while true {
        let reply = client.expect(await client.send("GET", "/v1/executions/\(id)"), [200])
        let object = reply.object
        let status = object["status"] as? String ?? "?"
        let line = "\(id) \(status) attempts=\(object["attempts"] as? Int ?? 0)"
        if progress && line != last && !json {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
            last = line
        }
        if ["succeeded", "failed", "cancelled", "timed_out"].contains(status) {
            if progress && !json { FileHandle.standardError.write(Data("\n".utf8)) }
            if json {
                print(reply.text)
            } else if status == "succeeded" {
                print(jsonText(object["output"]))
            } else {
                print("\(status): \(object["error"] as? String ?? "") \(object["cause"] as? String ?? "")")
            }
            throw ExitCode(executionExitCode(status))
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

func executionExitCode(_ status: String?) -> Int32 {
    switch status {
    case "succeeded": return 0
    case "pending", "running": return ClientExit.running
    default: return ClientExit.failed
    }
}

func describe(_ execution: [String: Any]) -> String {
    var text = "\(execution["id"] as? String ?? "") \(execution["definition"] as? String ?? "")@\(execution["version"] as? Int ?? 0) "
        + "\(execution["status"] as? String ?? "") attempts=\(execution["attempts"] as? Int ?? 0) queue=\(execution["queue"] as? String ?? "")"
    if let output = execution["output"], !(output is NSNull) { text += "\noutput: \(jsonText(output))" }
    if let error = execution["error"] as? String { text += "\nerror: \(error): \(execution["cause"] as? String ?? "")" }
    return text
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List executions, newest first.")

    @OptionGroup var server: ServerOptions
    @Option(help: "pending, running, succeeded, failed, cancelled, timed_out.") var status: String?
    @Option(help: "Definition name.") var definition: String?
    @Option(help: "Queue name.") var queue: String?
    @Option(help: "At most this many.") var limit: Int = 50
    @Option(help: "Continue after this cursor (printed at the end of a full page).") var cursor: String?

    func run() async throws {
        var query = ["limit=\(limit)"]
        if let status { query.append("status=\(status)") }
        if let definition { query.append("definition=\(definition)") }
        if let queue { query.append("queue=\(queue)") }
        if let cursor { query.append("cursor=\(cursor)") }
        let client = server.client
        let reply = client.expect(await client.send("GET", "/v1/executions?" + query.joined(separator: "&")), [200])
        if server.json { print(reply.text); return }
        for execution in reply.object["executions"] as? [[String: Any]] ?? [] {
            print("\(execution["id"] as? String ?? "")  \(execution["status"] as? String ?? "")  \(execution["definition"] as? String ?? "")@\(execution["version"] as? Int ?? 0)  \(execution["createdAt"] as? String ?? "")")
        }
        if let next = reply.object["nextCursor"] as? String { print("more: --cursor \(next)") }
    }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel an execution that has not finished.")

    @OptionGroup var server: ServerOptions
    @Argument(help: "Execution id.") var id: String
    @Option(help: "Recorded as the cause.") var reason: String?

    func run() async throws {
        let client = server.client
        var body: [String: Any] = [:]
        body["reason"] = reason
        let reply = client.expect(await client.send("POST", "/v1/executions/\(id)/cancel", body: body), [200])
        print(server.json ? reply.text : describe(reply.object))
    }
}

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queues", abstract: "List queues with depth; pause or resume one.")

    @OptionGroup var server: ServerOptions
    @Argument(help: "pause or resume (omit to list).") var action: String?
    @Argument(help: "Queue name.") var name: String?

    func run() async throws {
        let client = server.client
        switch (action, name) {
        case (nil, _):
            let reply = client.expect(await client.send("GET", "/v1/queues"), [200])
            if server.json { print(reply.text); return }
            for queue in reply.object["queues"] as? [[String: Any]] ?? [] {
                print("\(queue["name"] as? String ?? "") \((queue["paused"] as? Bool ?? false) ? "paused" : "active") ready=\(queue["ready"] as? Int ?? 0) scheduled=\(queue["scheduled"] as? Int ?? 0) running=\(queue["running"] as? Int ?? 0)")
            }
        case let (action?, name?) where action == "pause" || action == "resume":
            let reply = client.expect(await client.send("POST", "/v1/queues/\(name)/\(action)"), [200])
            print(server.json ? reply.text : "\(name) \(action == "pause" ? "paused" : "active")")
        default:
            throw ValidationError("usage: sluice queues [pause|resume NAME]")
        }
    }
}

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "health", abstract: "Each component's heartbeat; exits 1 when one is stale.")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let client = server.client
        let reply = client.expect(await client.send("GET", "/v1/health"), [200, 503])
        if server.json {
            print(reply.text)
        } else {
            for component in reply.object["components"] as? [[String: Any]] ?? [] {
                let stale = component["stale"] as? Bool ?? true
                print(String(format: "%@ %@ age=%.1fs ttl=%.0fs %@", component["component"] as? String ?? "", stale ? "STALE" : "ok",
                             component["ageSeconds"] as? Double ?? 0, component["ttlSeconds"] as? Double ?? 0, component["info"] as? String ?? ""))
            }
        }
        if reply.status != 200 { throw ExitCode(ClientExit.failed) }
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Run a failed or cancelled execution again from where it failed, or --from a task.")

    @OptionGroup var server: ServerOptions
    @Argument(help: "Execution id.") var id: String
    @Option(help: "Task to restart at.") var from: String?
    @Flag(help: "Wait until it finishes; exit 0 only if it succeeded.") var wait = false

    func run() async throws {
        let client = server.client
        var body: [String: Any] = [:]
        body["from"] = from
        let reply = client.expect(await client.send("POST", "/v1/executions/\(id)/resume", body: body), [200])
        if wait { try await follow(client: client, id: id, json: server.json, progress: false) }
        print(server.json ? reply.text : describe(reply.object))
    }
}

struct DefinitionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "definitions", abstract: "List definitions, show one, or upload a file as a new version.")

    @OptionGroup var server: ServerOptions
    @Argument(help: "A name to show (with --version), or nothing to list.") var name: String?
    @Option(help: "Version to show (default latest).") var version: String?
    @Option(help: "Upload this workflow file (JSON or YAML).") var upload: String?

    func run() async throws {
        let client = server.client
        if let upload {
            guard let text = try? String(contentsOfFile: upload, encoding: .utf8) else { fail("cannot read \(upload)", code: ClientExit.refused) }
            let reply = client.expect(await client.sendText("POST", "/v1/definitions", text: text,
                                                            contentType: upload.hasSuffix(".json") ? "application/json" : "application/yaml"), [200, 201])
            print(server.json ? reply.text : "\(reply.object["name"] as? String ?? "") version \(reply.object["version"] as? Int ?? 0)\(reply.status == 200 ? " (unchanged)" : "")")
            return
        }
        if let name {
            let reply = client.expect(await client.send("GET", "/v1/definitions/\(name)/\(version ?? "latest")"), [200])
            print(server.json ? reply.text : (reply.object["source"] as? String ?? ""))
            return
        }
        let reply = client.expect(await client.send("GET", "/v1/definitions"), [200])
        if server.json { print(reply.text); return }
        for definition in reply.object["definitions"] as? [[String: Any]] ?? [] {
            print("\(definition["name"] as? String ?? "")  v\(definition["version"] as? Int ?? 0)  \(definition["dialect"] as? String ?? "")  \(definition["createdAt"] as? String ?? "")")
        }
    }
}
