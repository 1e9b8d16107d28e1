import Foundation
import Logging
import ServiceLifecycle
import SluiceAPI
import SluiceCore
import Testing

/// The loopback rule decides on resolved addresses, not on how the host is spelled.
@Suite struct ListenAddressTests {
    @Test func aNameThatOnlyLooksLikeLoopbackIsRefused() throws {
        // A prefix test took this for loopback and served every interface without a token.
        #expect {
            try APIConfiguration(host: "127.attacker.test", port: 0).validate()
        } throws: { error in
            guard case let .unresolvable(host, _)? = error as? APIConfigurationError else { return false }
            return host == "127.attacker.test"
        }
        #expect(throws: APIConfigurationError.self) {
            try APIConfiguration(host: "127.attacker.test", port: 0, token: "t").validate()
        }
    }

    @Test func loopbackNamesAndAddressesNeedNoToken() throws {
        let localhost = try APIConfiguration(host: "localhost", port: 0).validate()
        #expect(localhost.isLoopback)
        #expect(localhost.bindAddress == "127.0.0.1")
        #expect(try APIConfiguration(host: "127.0.0.1", port: 0).validate().bindAddress == "127.0.0.1")
        #expect(try APIConfiguration(host: "127.1.2.3", port: 0).validate().isLoopback)
        let v6 = try APIConfiguration(host: "::1", port: 0).validate()
        #expect(v6.isLoopback)
        #expect(v6.bindAddress == "::1")
        #expect(v6.urlHost == "[::1]")
    }

    @Test func everyOtherAddressNeedsAToken() throws {
        for host in ["0.0.0.0", "::", "10.1.2.3", "::ffff:127.0.0.1"] {
            #expect(throws: APIConfigurationError.self, "\(host) without a token") {
                try APIConfiguration(host: host, port: 0).validate()
            }
        }
        let all = try APIConfiguration(host: "0.0.0.0", port: 0, token: "s3cret").validate()
        #expect(!all.isLoopback)
        #expect(!ListenAddress(host: "mixed", addresses: ["127.0.0.1", "10.0.0.1"]).isLoopback, "one address beyond loopback is enough to need a token")
        #expect(throws: APIConfigurationError.self) { try APIConfiguration(host: "", port: 0).validate() }
    }

    @Test func theServerListensOnTheResolvedAddress() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-listen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(StoreConfiguration(path: directory.appendingPathComponent("api.sqlite").path, sync: .normal))
        let engine = Engine(store: store, configuration: EngineConfiguration(pools: []))
        for (host, connectTo) in [("localhost", "127.0.0.1"), ("::1", "::1")] {
            let server = try APIServer(engine: engine, configuration: APIConfiguration(host: host, port: 0))
            #expect(server.listenAddress.bindAddress == connectTo)
            let (ports, continuation) = AsyncStream<Int>.makeStream()
            let logger = Logger(label: "test")
            let group = ServiceGroup(configuration: .init(services: [server.application(logger: logger) { continuation.yield($0) }], logger: logger))
            let running = Task { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            let reply = try await RawConnection.offPool {
                let connection = try RawConnection(host: connectTo, port: port)
                try connection.send("GET /v1/openapi.yaml HTTP/1.0\r\n\r\n")
                return connection.readToEnd().text
            }
            #expect(reply.hasPrefix("HTTP/1.0 200"), "\(host): \(reply.prefix(80))")
            await group.triggerGracefulShutdown()
            _ = try? await running.value
        }
    }
}
