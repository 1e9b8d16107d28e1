import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Prometheus
import ServiceLifecycle
import SluiceCore

/// The HTTP API of one engine: `/v1/...`, health and queues, on Hummingbird.
public struct APIServer: Sendable {
    public let engine: Engine
    public let configuration: APIConfiguration
    /// Where the engine's metrics go (pass the same one to `EngineMetrics` via `metricsFactory`).
    public let registry: PrometheusCollectorRegistry
    /// The listen host resolved and checked; the server binds `listenAddress.bindAddress`.
    public let listenAddress: ListenAddress

    public init(engine: Engine, configuration: APIConfiguration, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) throws {
        listenAddress = try configuration.validate()
        self.engine = engine
        self.configuration = configuration
        self.registry = registry
    }

    /// A swift-metrics factory that records into `registry`, for `EngineConfiguration.metrics`.
    public static func metricsFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [.microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
                                                   .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1),
                                                   .seconds(5), .seconds(30), .seconds(120)]
        return factory
    }

    /// The OpenAPI 3 description of this API (`api/openapi.yaml`, compiled in).
    public static var openAPI: String { embeddedOpenAPI }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        if let token = configuration.token, !token.isEmpty { router.add(middleware: BearerTokenMiddleware(token: token)) }
        router.add(middleware: StorageFullMiddleware())
        ExecutionRoutes(engine: engine, maxBodyBytes: configuration.maxBodyBytes).register(on: router)
        QueueAndHealthRoutes(engine: engine).register(on: router)
        MetricsRoute(engine: engine, registry: registry).register(on: router)
        EventStreamRoute(engine: engine).register(on: router)
        MenderRoutes(engine: engine, maxBodyBytes: configuration.maxBodyBytes).register(on: router)
        DefinitionRoutes(engine: engine, maxBodyBytes: configuration.maxBodyBytes).register(on: router)
        ActivityRoutes(engine: engine, maxBodyBytes: configuration.maxBodyBytes).register(on: router)
        router.get("/v1/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: APIServer.openAPI)))
        }
        router.add(middleware: UnmatchedRouteMiddleware(routes: router.routes))
        return router
    }

    /// The application as a service; `onListening` receives the bound port (useful with port 0).
    /// Connections past `limits.maxConnections` are answered 503; past `limits.hardCap` (503s
    /// included) the listening socket is not read until some close.
    public func application(logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol & Service {
        let limits = configuration.limits
        let counter = ConnectionCounter()
        return Application(
            router: router(),
            server: HTTPServerBuilder { responder in
                GuardedHTTP1Channel(inner: HTTP1Channel(responder: responder), limits: limits, counter: counter)
            },
            configuration: .init(address: .hostname(listenAddress.bindAddress, port: configuration.port), serverName: "sluice",
                                 availableConnectionsDelegate: MaximumAvailableConnections(limits.hardCap)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }
}

/// The engine as a service: started with the group, shut down gracefully when it ends.
public struct EngineService: Service {
    public let engine: Engine
    public let grace: Double

    public init(engine: Engine, grace: Double) {
        self.engine = engine
        self.grace = grace
    }

    public func run() async throws {
        engine.start()
        try? await gracefulShutdown()
        let engine = engine
        let grace = grace
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                engine.shutdown(grace: grace)
                continuation.resume()
            }
        }
    }
}
