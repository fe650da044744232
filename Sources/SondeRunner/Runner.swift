import Foundation
import SondeCore

/// Runs a collection's requests in order over a transport, checking each response.
///
/// Per request: 1. skip when an earlier failure or `skip:` says so; 2. render templates
/// and send (with retries); 3. check the implicit status; 4. take the captures (the
/// expectations may read them); 5. evaluate the expectations.
public final class Runner {
    public struct Options: Sendable {
        public var failFast: Bool
        /// Keep request and response headers and bodies (for -v and -vv).
        public var keepExchanges: Bool

        public init(failFast: Bool = false, keepExchanges: Bool = false) {
            self.failFast = failFast
            self.keepExchanges = keepExchanges
        }
    }

    let spec: CollectionSpec
    let scope: VariableScope
    let transport: HTTPTransport
    let options: Options
    let environmentName: String?
    var redactor: Redactor
    /// Captures of requests that did not pass, by name, with the request that failed.
    var failedCaptures: [String: String] = [:]
    var oauthTokens: [String: String] = [:]
    /// Per request, the variables its templates read (fixed for the collection, so found once).
    let readNames: [[String]]

    public init(
        spec: CollectionSpec, scope: VariableScope, secrets: [String], transport: HTTPTransport,
        environmentName: String? = nil, options: Options = Options()
    ) {
        self.spec = spec
        self.scope = scope
        self.transport = transport
        self.options = options
        self.environmentName = environmentName
        readNames = spec.requests.map { request in
            let templates = request.outgoingTemplates + request.expectations.flatMap(\.predicate.templates)
            var seen = Set<String>()
            return templates.flatMap(\.references).filter { !$0.isEnvironment && seen.insert($0.name).inserted }.map(\.name)
        }
        redactor = Redactor()
        for name in secrets {
            if let value = try? scope.variable(name) { redactor.add(value.interpolated) }
        }
    }

    public func run(onEvent: (RunEvent) -> Void = { _ in }) -> RunResult {
        let started = Date()
        var results: [RequestResult] = []
        var stop = false
        for (index, request) in spec.requests.enumerated() {
            onEvent(.requestStarted(index: index, name: request.name))
            var result: RequestResult
            if stop {
                result = skipped(request, index: index, reason: "--fail-fast: an earlier request failed")
            } else {
                result = execute(request, index: index)
            }
            if result.outcome == .failed || result.outcome == .error {
                for capture in request.captures { failedCaptures[capture.name] = request.name }
                if options.failFast { stop = true }
            } else if result.outcome == .passed {
                for capture in request.captures { failedCaptures[capture.name] = nil }
            }
            results.append(result)
            onEvent(.requestFinished(result))
        }
        return RunResult(collection: spec.name, file: spec.file, environment: environmentName, started: started, finished: Date(), requests: results)
    }

    /// A result with nothing sent yet; `execute` fills it in.
    func blank(_ request: RequestSpec, index: Int) -> RequestResult {
        RequestResult(
            index: index, name: request.name, method: request.method, url: redactor.redact(request.url.source), location: request.location,
            outcome: .error, status: nil, timings: nil, attempts: 0, responseSize: 0, bodyHash: nil, shape: nil, error: nil, skipReason: nil, checks: [],
            requestHeaders: [], requestBody: nil, responseHeaders: [], responseBody: nil)
    }

    func skipped(_ request: RequestSpec, index: Int, reason: String) -> RequestResult {
        var result = blank(request, index: index)
        result.outcome = .skipped
        result.skipReason = reason
        return result
    }

    func execute(_ request: RequestSpec, index: Int) -> RequestResult {
        // 1. Skip when a capture it needs was never taken, or when `skip:` renders true.
        for name in readNames[index] {
            if let failed = failedCaptures[name] {
                return skipped(request, index: index, reason: "needs '\(name)', captured by request '\(failed)', which did not pass")
            }
        }
        var result = blank(request, index: index)
        do {
            if let skip = request.skip {
                let value = try skip.render(in: scope).trimmingCharacters(in: .whitespaces).lowercased()
                if value == "true" || value == "1" || value == "yes" {
                    return skipped(request, index: index, reason: "skip: \(skip.source) is true")
                }
            }
            let http = try render(request)
            result.url = redactor.redact(http.url)
            if options.keepExchanges {
                result.requestHeaders = http.headers.map { ($0.name, redactor.redact($0.value)) }
                result.requestBody = http.body.map { redactor.redact(String(decoding: $0, as: UTF8.self)) }
            }
            if let delay = request.delay { Thread.sleep(forTimeInterval: delay.seconds) }

            // 2. Send, trying again while the retry policy asks.
            var response: HTTPResponse?
            var attempt = 0
            let retries = request.retry?.count ?? 0
            var checked = Checked()
            while true {
                attempt += 1
                do {
                    let answer = try transport.send(http)
                    response = answer
                    checked = try check(request, answer)
                    let done: Bool
                    if let until = request.retry?.untilStatus {
                        done = until.contains(answer.status)
                    } else {
                        done = checked.checks.allSatisfy(\.passed) && checked.captureError == nil
                    }
                    if done || attempt > retries { break }
                } catch let error as TemplateError {
                    throw error
                } catch {
                    if attempt > retries {
                        result.attempts = attempt
                        result.outcome = .error
                        result.error = redactor.redact("\(error)")
                        return result
                    }
                }
                Thread.sleep(forTimeInterval: request.retry?.delay.seconds ?? 1)
            }
            result.attempts = attempt
            guard let response else { return result }
            result.status = response.status
            result.timings = response.timings
            result.responseSize = response.body.count
            result.bodyHash = Digest.sha256(response.body)
            result.shape = checked.shape
            result.checks = checked.checks
            if options.keepExchanges {
                result.responseHeaders = response.headers.map { ($0.name, redactor.redact($0.value)) }
                result.responseBody = redactor.redact(String(decoding: response.body, as: UTF8.self))
            } else if !checked.checks.allSatisfy(\.passed) || checked.captureError != nil {
                result.responseBody = redactor.excerpt(String(decoding: response.body, as: UTF8.self), limit: 600)
            }
            if let captureError = checked.captureError {
                result.outcome = .failed
                result.error = captureError
            } else {
                result.outcome = checked.checks.allSatisfy(\.passed) ? .passed : .failed
            }
            return result
        } catch let error as TemplateError {
            result.outcome = .error
            result.error = redactor.redact("template: \(error.message)")
            return result
        } catch {
            result.outcome = .error
            result.error = redactor.redact("\(error)")
            return result
        }
    }

    /// What `check` found in a response.
    struct Checked {
        var checks: [CheckResult] = []
        var captureError: String?
        /// The JSON shape of the body, keys redacted, for the history.
        var shape: JSONShape?
    }

    /// 3–5: the implicit status, the captures, then the expectations.
    func check(_ request: RequestSpec, _ response: HTTPResponse) throws -> Checked {
        let exchange = Exchange(response: response)
        var checks: [CheckResult] = []
        let hasStatusExpectation = request.expectations.contains { if case .status = $0.subject { return true } else { return false } }
        if !hasStatusExpectation && response.status >= 400 {
            checks.append(CheckResult(subject: "status", expected: "< 400 (no status expectation)", actual: String(response.status), passed: false,
                message: "HTTP \(response.status)", location: request.location))
        }
        var captureError: String?
        for capture in request.captures {
            switch exchange.capture(capture) {
            case .success(let value):
                scope.capture(capture.name, value)
                if capture.secret { redactor.add(value.interpolated) }
            case .failure(let message):
                captureError = captureError ?? "capture '\(capture.name)': \(message)"
            }
        }
        for expectation in request.expectations {
            checks.append(try evaluate(expectation, exchange))
        }
        return Checked(checks: checks, captureError: captureError, shape: exchange.shape.map(redactor.redact))
    }

    func evaluate(_ expectation: Expectation, _ exchange: Exchange) throws -> CheckResult {
        let subject: String
        let actual: Actual
        switch expectation.subject {
        case .status:
            subject = "status"
            actual = .value(.int(exchange.response.status))
        case .header(let name):
            subject = "header \(name)"
            actual = exchange.header(name).map { .value(.string($0)) } ?? .missing
        case .body:
            subject = "body"
            actual = .value(.string(exchange.text))
        case .duration:
            subject = "duration"
            actual = .value(.double(exchange.durationMilliseconds))
        case .jsonpath(let path):
            subject = path.text
            guard case .success(let document) = exchange.json else {
                return CheckResult(subject: subject, expected: redactor.redact(try expectation.predicate.describeExpected(in: scope)), actual: "a body that is not JSON",
                    passed: false, message: exchange.jsonError, location: expectation.location)
            }
            if path.isSingular {
                actual = path.values(in: document).first.map(Actual.value) ?? .missing
            } else {
                actual = .nodes(path.nodes(in: document))
            }
        case .schema(let schema):
            subject = "schema"
            guard case .success(let document) = exchange.json else {
                return CheckResult(subject: subject, expected: "matches the schema", actual: "a body that is not JSON", passed: false,
                    message: exchange.jsonError, location: expectation.location)
            }
            let violations = JSONSchema(schema).validate(document)
            return CheckResult(subject: subject, expected: "matches the schema", actual: violations.isEmpty ? "matches" : "\(violations.count) violation(s)",
                passed: violations.isEmpty, message: redactor.excerpt(violations.prefix(5).map(\.description).joined(separator: "; "), limit: 500),
                location: expectation.location)
        }
        let outcome = try expectation.predicate.evaluate(actual, in: scope)
        return CheckResult(
            subject: subject, expected: redactor.redact(try expectation.predicate.describeExpected(in: scope)),
            actual: redactor.excerpt(actual.display, limit: 300), passed: outcome.passed,
            message: outcome.message.map { redactor.excerpt($0, limit: 500) }, location: expectation.location)
    }
}
