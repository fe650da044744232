import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A KubeSphere-like API on loopback, for `sonde demo` and the end-to-end tests.
///
/// Routes: the KubeSphere login and componentstatuses, and what tests need:
/// `/slow?ms=`, `/status/{code}`, `/redirect?to=&status=&cookie=&ms=` (any method),
/// `/respond?status=&content_type=&header=&body=` (or `body_base64=`), `/cookies/set?name=value`,
/// `/cookies`, `/flaky?key=&failures=`, `/echo` and `/echo/**` (any method: what arrived, as
/// JSON), `/hops/N` (N redirects, then `/echo`), `/basic`,
/// `/oauth/token` and `/oauth/protected`, `/mock/stats`.
public final class MockServer: Sendable {
    public struct Configuration: Sendable {
        public var username: String
        public var password: String
        public var components: [String]
        public var unhealthy: Set<String>
        /// How long componentstatuses waits before it answers (an API that got slow).
        public var componentsDelayMilliseconds: Int = 0
        /// What `/compressed` answers, as `Content-Encoding: gzip` (a gzip bomb, say).
        public var gzipBody: [UInt8] = []

        public init(
            username: String = "admin", password: String = "P@88w0rd",
            components: [String] = ComponentStatuses.defaultComponents, unhealthy: Set<String> = []
        ) {
            self.username = username
            self.password = password
            self.components = components
            self.unhealthy = unhealthy
        }
    }

    public let port: Int
    public let state: MockState
    private let task: Task<Void, Error>

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, state: MockState, task: Task<Void, Error>) {
        self.port = port
        self.state = state
        self.task = task
    }

    /// Starts the server on 127.0.0.1 and a free port; returns once it accepts connections.
    public static func start(_ configuration: Configuration = Configuration()) async throws -> MockServer {
        let state = MockState(configuration)
        let router = MockRoutes.router(state: state)
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "sonde-mock")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "sonde-mock"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let task = Task { try await app.run() }
        var port = 0
        for await bound in stream {
            port = bound
            break
        }
        guard port > 0 else {
            task.cancel()
            throw MockError("the mock server did not start")
        }
        return MockServer(port: port, state: state, task: task)
    }

    /// Starts the server from synchronous code (the CLI), blocking until it listens.
    public static func startBlocking(_ configuration: Configuration = Configuration()) throws -> MockServer {
        let box = ResultBox()
        let semaphore = DispatchSemaphore(value: 0)
        Task {
            do { box.result = .success(try await start(configuration)) } catch { box.result = .failure(error) }
            semaphore.signal()
        }
        semaphore.wait()
        guard let result = box.result else { throw MockError("the mock server did not start") }
        return try result.get()
    }

    public func stop() {
        task.cancel()
    }
}

private final class ResultBox: @unchecked Sendable {
    var result: Result<MockServer, Error>?
}

public struct MockError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// What the mock has seen and what it answers; shared by its handlers.
public final class MockState: @unchecked Sendable {
    private let lock = NSLock()
    private var configuration: MockServer.Configuration
    private var flakyCalls: [String: Int] = [:]
    private var tokensIssued: Set<String> = []
    private var oauthTokenRequests = 0
    private var requestCount = 0
    private var inFlight = 0
    private var mostInFlight = 0

    init(_ configuration: MockServer.Configuration) {
        self.configuration = configuration
    }

    func withLock<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    public var current: MockServer.Configuration { withLock { configuration } }

    /// Changes what componentstatuses answers from now on (tests of changing APIs).
    public func setUnhealthy(_ components: Set<String>) { withLock { configuration.unhealthy = components } }
    public func setComponents(_ components: [String]) { withLock { configuration.components = components } }
    public func setComponentsDelay(milliseconds: Int) { withLock { configuration.componentsDelayMilliseconds = milliseconds } }

    public var oauthTokenRequestCount: Int { withLock { oauthTokenRequests } }
    /// Every token the login handed out, so that tests can search outputs for them.
    public var issuedTokens: Set<String> { withLock { tokensIssued } }
    public var totalRequests: Int { withLock { requestCount } }

    /// The most requests the mock was answering at one moment (so tests see parallelism without timing it).
    public var maxConcurrentRequests: Int { withLock { mostInFlight } }

    func requestStarted() {
        withLock {
            requestCount += 1
            inFlight += 1
            mostInFlight = max(mostInFlight, inFlight)
        }
    }

    func requestEnded() { withLock { inFlight -= 1 } }

    func issueToken() -> String {
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() + ".sig"
        withLock { _ = tokensIssued.insert(token) }
        return token
    }

    func isValid(token: String) -> Bool { withLock { tokensIssued.contains(token) } }

    func issueOAuthToken() -> String {
        withLock { oauthTokenRequests += 1 }
        return "oauth-" + issueToken()
    }

    /// Counts calls per key: the first `failures` calls fail.
    func flakyCall(key: String) -> Int {
        withLock {
            flakyCalls[key, default: 0] += 1
            return flakyCalls[key, default: 0]
        }
    }
}
