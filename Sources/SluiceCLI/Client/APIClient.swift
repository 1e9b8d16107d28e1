import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where the client commands find the server.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: "Sluice API base URL (default: $SLUICE_SERVER or http://127.0.0.1:8080).")
    var server: String?

    @Option(name: .long, help: "Bearer token (default: $SLUICE_TOKEN).")
    var token: String?

    @Flag(name: .long, help: "Print the API's JSON instead of text.")
    var json = false

    var client: APIClient {
        let environment = ProcessInfo.processInfo.environment
        return APIClient(base: server ?? environment["SLUICE_SERVER"] ?? "http://127.0.0.1:8080",
                         token: token ?? environment["SLUICE_TOKEN"])
    }
}

/// Exit codes for scripts: 0 success (or execution succeeded), 1 execution failed or
/// cancelled or timed out, 2 request refused (bad input, not found), 3 still running,
/// 4 server unreachable or answering 5xx.
enum ClientExit {
    static let failed: Int32 = 1
    static let refused: Int32 = 2
    static let running: Int32 = 3
    static let unreachable: Int32 = 4
}

/// A small client for the `/v1` API.
struct APIClient {
    let base: String
    let token: String?

    struct Reply {
        let status: Int
        let data: Data
        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: data, as: UTF8.self) }
    }

    func send(_ method: String, _ path: String, body: [String: Any]? = nil) async -> Reply {
        await send(method, path, data: body.flatMap { try? JSONSerialization.data(withJSONObject: $0) }, contentType: "application/json")
    }

    /// Sends a raw text body (definition uploads).
    func sendText(_ method: String, _ path: String, text: String, contentType: String) async -> Reply {
        await send(method, path, data: Data(text.utf8), contentType: contentType)
    }

    private func send(_ method: String, _ path: String, data: Data?, contentType: String) async -> Reply {
        guard let url = URL(string: base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path) else {
            fail("bad server URL \(base)", code: ClientExit.refused)
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let data {
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
            request.httpBody = data
        }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, data: data)
        } catch {
            fail("cannot reach \(base): \(error.localizedDescription)", code: ClientExit.unreachable)
        }
    }

    /// The reply, or exit with the API's error message and a fitting code.
    func expect(_ reply: Reply, _ accepted: Set<Int>) -> Reply {
        if accepted.contains(reply.status) { return reply }
        let error = reply.object["error"] as? [String: Any]
        let message = (error?["message"] as? String) ?? reply.text
        fail("\(error?["code"] as? String ?? "HTTP \(reply.status)"): \(message)",
             code: reply.status >= 500 ? ClientExit.unreachable : ClientExit.refused)
    }
}

/// JSON text of any value the API returned.
func jsonText(_ value: Any?, pretty: Bool = false) -> String {
    guard let value, !(value is NSNull) else { return "null" }
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: pretty ? [.prettyPrinted, .sortedKeys, .fragmentsAllowed] : [.sortedKeys, .fragmentsAllowed]) else {
        return "\(value)"
    }
    return String(decoding: data, as: UTF8.self)
}
