import Foundation
import SondeCore

/// Runs a plan's steps in order over a transport, checking each response.
///
/// Per request (`execute`, in code order): 1. skip when a capture it needs failed or `skip:`
/// says so; 2. render templates and send (with retries); 3. the implicit status check;
/// 4. the captures; 5. the expectations (`expectations`).
///
/// Step 5 is a function of the exchange and a snapshot of the variables taken after the
/// captures, so it may run while the next request is on the wire (on this thread, through
/// the transport's `whileWaiting`). The runner waits for it first when the next request
/// reads a capture whose owner's outcome is still open (its skip depends on it) and under
/// --fail-fast; a request with a retry policy is checked after every attempt, since the
/// checks decide it. Results and events come in order. A `Cancellation` stops the run
/// between steps (and the transport's transfer on the wire).
public final class Runner {
    public struct Options: Sendable {
        public var failFast: Bool
        /// Keep request and response headers and bodies (for -v and -vv).
        public var keepExchanges: Bool
        /// Keep each result in the returned `RunResult`. Without it, the run keeps only each
        /// request's outcome (one byte) once its event has been delivered, and `RunResult`
        /// has the `counts` and no `requests`: memory does not grow with the length of a run.
        public var keepDetails: Bool
        /// Write each request sent as a curl command line (`RequestResult.curlCommand`), with
        /// these arguments added (the command line's TLS and proxy options); nil: none.
        public var curlArguments: [String]?
        /// The results are recorded or reported: each body is hashed (and the latest kept,
        /// for secrets learned later), and the shape of a large JSON body (`largeBody` bytes
        /// or more) is worked out as soon as it is checked, so that its document (several
        /// times the body's size) is let go before the next one is parsed; smaller bodies'
        /// shapes are worked out by the recorder, on its own thread. A run that is neither
        /// (`--no-save`, no report) does none of it.
        public var records: Bool
        /// The authentication libcurl does for requests without an `auth` of their own
        /// (`sonde run --netrc`).
        public var defaultAuth: TransportAuth?

        public init(
            failFast: Bool = false, keepExchanges: Bool = false, keepDetails: Bool = true, curlArguments: [String]? = nil, records: Bool = true,
            defaultAuth: TransportAuth? = nil
        ) {
            self.defaultAuth = defaultAuth
            self.failFast = failFast
            self.keepExchanges = keepExchanges
            self.keepDetails = keepDetails
            self.curlArguments = curlArguments
            self.records = records
        }
    }

    let plan: RunPlan
    /// The collection of the step being run (base URL, file): the plan's, or an included
    /// file's (with the including one's base URL when it has none).
    var spec: CollectionSpec
    /// The variables of the step being run: the collection's (`rootScope`), or an included
    /// file's (`PlanScope`), made when its first step is reached.
    var scope: VariableScope
    let rootScope: VariableScope
    var scopes: [VariableScope?]
    var scopeSpecs: [CollectionSpec?]
    /// The index of `scope` in `scopes`.
    var currentScope = 0
    /// The step ids given so far: the plan's, then each loop iteration's as it is made, so
    /// that no iteration takes a name another step has (`iterations(of:)`).
    lazy var usedStepIDs = Set(plan.steps.map(\.id))
    let transport: HTTPTransport
    let options: Options
    let environmentName: String?
    let clock: RunClock
    let cancellation: Cancellation?
    var redactor: Redactor
    /// Captures of requests that did not pass (or were skipped, for names nothing else
    /// defines), by name, with the step and whether it was skipped.
    /// Keyed by `captureKey` (the name, and its scope when not the collection's).
    /// `name`: the capture's own name when the step reads it under another (an include's
    /// `with: { value: "{{ v }}" }` reads `v` as `value`).
    var failedCaptures: [String: (request: String, skipped: Bool, name: String?)] = [:]
    var oauthTokens: [String: String] = [:]
    /// Per step, the variables its templates read (fixed for the plan, so found once).
    let readNames: [[String]]
    /// Per step, the variables its expectations read: rendered before the snapshot they read.
    let expectationNames: [[String]]
    /// The step being run, and the one during which the latest secret became known: the
    /// steps before it were recorded without knowing that secret.
    var currentRequest: Int?
    public private(set) var requestOfLatestSecret: Int?
    /// Called on the runner's thread before each step is rendered, so that what it does (mask
    /// the secrets another collection learned) holds for that step's own record. The events
    /// of `run` come later, while the step is on the wire.
    public var beforeEachRequest: (() -> Void)?
    /// When `run` began: each result's start is an offset from it (the report's waterfall).
    var runStarted = Date()
    /// The checks waiting to run while the next request is on the wire.
    var pendingWork: (() -> Void)?

    public init(
        plan: RunPlan, scope: VariableScope, secrets: [String], transport: HTTPTransport,
        environmentName: String? = nil, options: Options = Options(), clock: RunClock = .system, cancellation: Cancellation? = nil
    ) {
        self.plan = plan
        self.scope = scope
        self.rootScope = scope
        self.spec = plan.collection
        self.scopes = [scope] + Array(repeating: nil, count: max(0, plan.scopes.count - 1))
        self.scopeSpecs = [plan.collection] + Array(repeating: nil, count: max(0, plan.scopes.count - 1))
        self.transport = transport
        self.options = options
        self.environmentName = environmentName
        self.clock = clock
        self.cancellation = cancellation
        func names(_ templates: [Template]) -> [String] {
            var seen = Set<String>()
            return templates.flatMap(\.references).filter { !$0.isEnvironment && seen.insert($0.name).inserted }.map(\.name)
        }
        readNames = plan.steps.map { step in names(step.request.outgoingTemplates + step.request.expectations.flatMap(\.predicate.templates)) }
        expectationNames = plan.steps.map { step in names(step.request.expectations.flatMap(\.predicate.templates)) }
        redactor = Redactor()
        // Every secret value the scope comes to know (declared, captured, or computed from a
        // secret) is masked from then on.
        scope.onSecret = { [unowned self] value in
            self.redactor.add(leavesOf: value)
            // Any value new to the masks may stand in what was recorded before: a capture
            // declared secret, and a value that becomes secret by its use (a captured token
            // sent in `auth:`, a password that arrives in a redirect's Location).
            if let current = self.currentRequest { self.requestOfLatestSecret = current }
        }
        for value in scope.secretValues { redactor.add(leavesOf: value) }
        for name in secrets {
            scope.declareSecret(name)
            _ = try? scope.variable(name)
        }
    }

    /// Masks values that are secret elsewhere (in another collection of the same `sonde run`):
    /// a server may echo to one collection what another sent it.
    public func mask(_ values: [JSONValue]) {
        for value in values { redactor.add(leavesOf: value) }
    }

    /// Every secret value this run has come to know (declared, captured, computed), for the
    /// collections that run after it.
    public var secretValues: [JSONValue] { rootScope.secretValues }

    /// What masks every secret this run knows now, for what was recorded before some became known.
    public var currentRedactor: Redactor { redactor }

    /// The latest response bodies, kept up to `retainedBodyBudget` bytes: a secret learned
    /// later (a capture, or another collection's) may stand in one, whose recorded hash must
    /// then be of its masked text.
    private var retainedBodies: [(position: Int, body: [UInt8])] = []
    /// The recorded hash of each body seen (by its own hash), for the secrets known when it
    /// was computed (their count): a smoke test reads the same body again and again.
    private var maskedHashes: (secretCount: Int, byRawHash: [String: String?]) = (0, [:])
    private var retainedBytes = 0
    /// Positions below this one whose bodies are no longer kept.
    private var forgottenBelow = 0
    /// 1 MiB: a secret is most often learned first (a login), and what it cannot keep loses
    /// only its hash (nil), never its masking; more is memory a long run pays on every request.
    static let retainedBodyBudget = 1 << 20
    /// A body from this size up (1 MiB) is checked before the next request is sent.
    static let largeBody = 1 << 20

    private func retain(_ body: [UInt8], at position: Int) {
        retainedBodies.append((position, body))
        retainedBytes += body.count
        while retainedBytes > Self.retainedBodyBudget, !retainedBodies.isEmpty {
            let dropped = retainedBodies.removeFirst()
            retainedBytes -= dropped.body.count
            forgottenBelow = max(forgottenBelow, dropped.position + 1)
        }
    }

    /// For the requests below `limit`: the body hashes that the secrets known now change (the
    /// hash of the masked text), and nil for those whose bodies are no longer kept.
    public func rehashedBodies(below limit: Int) -> [Int: String?] {
        var out: [Int: String?] = [:]
        for position in 0..<min(limit, forgottenBelow) { out[position] = .some(nil) }
        guard !redactor.isEmpty else { return out }
        for (position, body) in retainedBodies where position < limit {
            let text = String(decoding: body, as: UTF8.self)
            let masked = redactor.redact(text)
            if masked != text { out[position] = Digest.sha256(masked) }
        }
        return out
    }

    public func run(onEvent: (RunEvent) -> Void = { _ in }) -> RunResult {
        let started = clock.now()
        runStarted = started
        var cancelled = false
        let results = withoutActuallyEscaping(onEvent) { onEvent in
            let checker = CheckQueue(onEvent: onEvent, keepDetails: options.keepDetails)
            pendingWork = { checker.runPending() }
            defer {
                pendingWork = nil
                checker.stop()
            }
            var settled = 0
            var unsettledCaptures = Set<String>()
            var stop = false
            /// The step of each result, by the result's position (loops make several of one step).
            var resultSteps: [Int] = []
            /// The first setup step that did not pass: the requests after it are not sent.
            var setupFailure: String?
            /// Waits for the checks in flight, then applies their outcomes, in order.
            func settle() {
                let done = checker.drain()
                for position in settled..<done.count {
                    let step = plan.steps[resultSteps[position]]
                    switch done[position] {
                    case .failed, .error:
                        for capture in step.request.captures {
                            forEachKey(of: capture.name, in: step.scope) { failedCaptures[$0] = (step.name, false, nil) }
                        }
                        if step.phase == .setup, setupFailure == nil { setupFailure = step.name }
                        if options.failFast { stop = true }
                    case .passed:
                        for capture in step.request.captures {
                            forEachKey(of: capture.name, in: step.scope) { failedCaptures[$0] = nil }
                        }
                    case .skipped:
                        // Its captures were not taken: a later request that needs one that nothing
                        // else defines (no earlier capture, no variable) is skipped too, rather
                        // than an error of an undefined name.
                        if step.phase == .setup, setupFailure == nil { setupFailure = step.name }
                        let stepScope = scopes[step.scope] ?? scope
                        for capture in step.request.captures where stepScope.source(of: capture.name) == nil {
                            forEachKey(of: capture.name, in: step.scope) { key in
                                if failedCaptures[key] == nil { failedCaptures[key] = (step.name, true, nil) }
                            }
                        }
                    }
                }
                settled = done.count
                unsettledCaptures = []
            }
            /// Why a step is skipped before anything of it is rendered, or nil: --fail-fast (a
            /// teardown runs whatever happened before it), a setup that did not pass, or a
            /// capture it needs that was not taken (`missingCapture`).
            func skipReason(_ step: PlanStep, index: Int) -> SkipReason? {
                if stop && step.phase != .teardown { return .failFast }
                if let setupFailure, step.phase == .main { return .setupFailed(setupFailure) }
                return missingCapture(step, index: index)
            }
            /// One step (or one iteration of a loop), at `position` among the results.
            func runOne(_ step: PlanStep, index: Int) {
                let position = resultSteps.count
                resultSteps.append(index)
                currentRequest = position
                beforeEachRequest?()
                if options.failFast || readNames[index].contains(where: { unsettledCaptures.contains(captureKey($0, step.scope)) }) { settle() }
                // A name is the collection's text, but a secret's value may stand in it.
                let shownName = redactor.redact(step.name)
                checker.post(.requestStarted(position: position, name: shownName))
                // A skipped step takes no captures: settled, that says so to the steps that need them.
                let stage = skipReason(step, index: index).map { Stage.finished(skipped(step, position: position, shownName: shownName, reason: $0)) }
                    ?? execute(step, index: index, position: position, shownName: shownName)
                // Cancelled while on the wire: that request's result is not one.
                if cancellation?.isCancelled == true {
                    resultSteps.removeLast()
                    return
                }
                switch stage {
                case .finished(let result):
                    checker.finish(result)
                case .sent(let sent):
                    let large = sent.exchange.response.body.count >= Self.largeBody
                    checker.check { self.expectations(sent) }
                    // Checked at once, not while the next request is on the wire: two large
                    // documents at a time would be twice the memory.
                    if large { checker.runPending() }
                }
                for capture in step.request.captures {
                    // An included step's export is in flight in the scopes above too.
                    forEachKey(of: capture.name, in: step.scope) { unsettledCaptures.insert($0) }
                }
            }
            var phase = Phase.setup
            for (index, step) in plan.steps.enumerated() {
                // A cancelled run stops between steps; the steps it did not reach have no result.
                if cancellation?.isCancelled == true {
                    cancelled = true
                    break
                }
                // The requests wait for the setup's verdict.
                if step.phase != phase {
                    if phase == .setup { settle() }
                    phase = step.phase
                }
                if step.scope != currentScope {
                    // An include's `with:` reads the scope above it as its checks left it.
                    if scopes[step.scope] == nil { settle() }
                    enter(step.scope)
                }
                guard let loop = step.request.loop else {
                    runOne(step, index: index)
                    if cancellation?.isCancelled == true { cancelled = true }
                    continue
                }
                // A loop: its list is known now (a capture's). When the step would be skipped
                // (a capture its list reads failed, --fail-fast, the setup failed), or its list
                // cannot be read, it is one result under its own name.
                if readNames[index].contains(where: { unsettledCaptures.contains(captureKey($0, step.scope)) }) { settle() }
                if skipReason(step, index: index) != nil {
                    runOne(step, index: index)
                    continue
                }
                let savedBinding = scope.save(loop.binding)
                switch iterations(of: step, loop) {
                case .failure(let problem):
                    let position = resultSteps.count
                    resultSteps.append(index)
                    let shownName = redactor.redact(step.name)
                    checker.post(.requestStarted(position: position, name: shownName))
                    var result = blank(step, position: position, shownName: shownName)
                    result.problem = problem
                    checker.finish(result)
                case .success(let list) where list.isEmpty:
                    let position = resultSteps.count
                    resultSteps.append(index)
                    let shownName = redactor.redact(step.name)
                    checker.post(.requestStarted(position: position, name: shownName))
                    checker.finish(skipped(step, position: position, shownName: shownName, reason: .noItems(loop)))
                case .success(let list):
                    for (iteration, item, secret) in list {
                        if cancellation?.isCancelled == true { break }
                        scope.bind(loop.binding, item, secret: secret)
                        runOne(iteration, index: index)
                    }
                    if cancellation?.isCancelled == true { cancelled = true }
                }
                // The loop's variable was bound only for its iterations.
                scope.restore(savedBinding)
                if cancelled { break }
            }
            return checker.finish()
        }
        var result = RunResult(
            collection: redactor.redact(plan.collection.name), file: plan.collection.file, environment: environmentName, started: started, finished: clock.now(),
            requests: results.results, counts: results.counts)
        result.warnings = scopes.compactMap { $0 }.flatMap(\.unmaskedLeafWarnings)
        result.cancelled = cancelled
        return result
    }

    /// A result with nothing sent yet; `execute` fills it in. `shownName`: the step's name, masked.
    func blank(_ step: PlanStep, position: Int, shownName: String) -> RequestResult {
        var result = RequestResult(
            step: RequestResult.maskedStep(step.id, masked: step.id == step.name ? shownName : redactor.redact(step.id), position: position),
            position: position, name: shownName, method: step.request.method,
            url: RequestURL.maskingPassword(redactor.redact(step.request.url.source)), location: step.location,
            startOffset: .fromSeconds(clock.now().timeIntervalSince(runStarted)), outcome: .error)
        result.phase = step.phase
        return result
    }

    func skipped(_ step: PlanStep, position: Int, shownName: String, reason: SkipReason) -> RequestResult {
        var result = blank(step, position: position, shownName: shownName)
        result.outcome = .skipped
        result.skip = reason
        return result
    }

    /// How far `execute` took a request: finished, or sent, checked for its status and its
    /// captures taken, with its expectations still to evaluate (`expectations`).
    enum Stage {
        case finished(RequestResult)
        case sent(Sent)
    }

    /// A response whose status is checked and whose captures are taken; the expectations,
    /// the body's hash and shape remain. `variables` is the scope as the captures left it:
    /// the expectations read only it, so they may run while the next request is sent.
    struct Sent {
        var request: RequestSpec
        var result: RequestResult
        var exchange: Exchange
        var statusCheck: CheckResult?
        var captureError: String?
        var variables: VariableScope
        /// `repeat: { until }` that still did not hold at the last attempt.
        var untilCheck: CheckResult? = nil
    }

    /// One request, in code order: 1 skip, 2 render and send (retrying as asked), 3 the
    /// implicit status check, 4 the captures; 5, the expectations, is `expectations`, run
    /// here for a request with a retry policy (they decide whether to try again), and
    /// otherwise while the next request is on the wire.
    /// With `curlArguments`: the request as a curl command line, masked.
    func curlCommand(_ http: HTTPRequest, _ request: RequestSpec, cookie: String?) -> String? {
        guard let extra = options.curlArguments else { return nil }
        return redactor.redact(
            CurlCommand.line(
                http, followRedirects: request.followRedirects, maxRedirects: request.maxRedirects, locationTrusted: request.locationTrusted, cookie: cookie,
                extraArguments: extra))
    }

    func execute(_ step: PlanStep, index: Int, position: Int, shownName: String) -> Stage {
        let request = step.request
        // 1. Skip when `skip:` renders true (a capture it needs that was never taken skipped
        // it before: `missingCapture`).
        var result = blank(step, position: position, shownName: shownName)
        do {
            if let skip = request.skip, try Self.isTrue(skip, in: scope) {
                return .finished(skipped(step, position: position, shownName: shownName, reason: .condition(skip.source)))
            }
            // 2. Render, then send, trying again while the retry policy asks.
            let http = try render(request)
            result.url = redactor.redact(http.url)
            result.curlCommand = curlCommand(http, request, cookie: nil)
            if options.keepExchanges {
                result.requestHeaders = http.headers.map { (redactor.redact($0.name), redactor.redact($0.value)) }
                result.requestBody = http.body?.bytes.map { BodySummary.isBinary($0, contentType: nil) ? BodySummary.binary($0.count, contentType: nil) : redactor.redact(String(decoding: $0, as: UTF8.self)) }
            }
            if let delay = request.delay { wait(delay.duration) }
            result.startOffset = .fromSeconds(clock.now().timeIntervalSince(runStarted))
            var attempt = 0
            let retries = request.retry?.count ?? 0
            while true {
                attempt += 1
                do {
                    let transfer = try self.transfer(http, for: request, whileWaiting: pendingWork ?? {})
                    if http.transfer.auth != nil { noteTransportCredentials(transfer.sentHeaders + transfer.hopHeaders.flatMap { $0 }) }
                    let exchange = Exchange(
                        response: transfer.response, url: transfer.finalURL, redirects: transfer.redirects, redirectHeaders: transfer.hopResponseHeaders)
                    result.attempts = attempt
                    if !transfer.redirects.isEmpty {
                        // A Location may have brought a secret (a password): mask with what is known now.
                        result.url = redactor.redact(http.url)
                        result.finalURL = redactor.redact(transfer.shownFinalURL)
                        result.redirects = transfer.shownRedirects.map { $0.mapURLs(redactor.redact) }
                    }
                    // The cookies the jar added are known once sent.
                    if let cookie = transfer.sentHeaders.last(where: { $0.name.equalsIgnoringASCIICase("Cookie") })?.value, options.curlArguments != nil {
                        result.curlCommand = curlCommand(http, request, cookie: cookie)
                    }
                    if options.keepExchanges {
                        result.redirectHeaders = transfer.hopHeaders.map { $0.map { (redactor.redact($0.name), redactor.redact($0.value)) } }
                        result.requestHeaders = transfer.sentHeaders.map { (redactor.redact($0.name), redactor.redact($0.value)) }
                        result.requestBody = transfer.sentBody.map { body in
                            let contentType = transfer.sentHeaders.last { $0.name.equalsIgnoringASCIICase("Content-Type") }?.value
                            return BodySummary.isBinary(body, contentType: contentType)
                                ? BodySummary.binary(body.count, contentType: contentType) : redactor.redact(String(decoding: body, as: UTF8.self))
                        }
                    }
                    // 3. The implicit status check.
                    let statusCheck = Self.implicitStatusCheck(request, exchange.response.status)
                    // 4. The captures, which the next request may need.
                    let captureError = capture(request, exchange)
                    exportCaptures(request, from: step.scope)
                    // 5. The expectations read a snapshot of the variables, each of theirs rendered
                    // first; expectations that read none never look at the scope.
                    let names = expectationNames[index]
                    for name in names { _ = try? scope.variable(name) }
                    let sent = Sent(
                        request: request, result: result, exchange: exchange, statusCheck: statusCheck, captureError: captureError,
                        variables: names.isEmpty ? scope : scope.snapshot())
                    if let polling = request.repeatUntil {
                        // Polling: sent again after `delay` until every `until` check holds.
                        var failing: CheckResult?
                        for expectation in polling.expectations {
                            let check = try evaluate(expectation, exchange, variables: scope)
                            if !check.passed {
                                failing = check
                                break
                            }
                        }
                        if failing != nil, attempt < polling.max, cancellation?.isCancelled != true {
                            wait(polling.delay.duration)
                            continue
                        }
                        var polled = sent
                        if let failing {
                            polled.untilCheck = CheckResult(
                                subject: "repeat until \(failing.subject)", expected: failing.expected, actual: failing.actual, passed: false,
                                message: "still not so after \(attempt) attempt\(attempt == 1 ? "" : "s") (max \(polling.max))", location: failing.location)
                        }
                        return .sent(polled)
                    }
                    guard let retry = request.retry else { return .sent(sent) }
                    let checked = expectations(sent)
                    let done = retry.untilStatus.map { $0.contains(exchange.response.status) } ?? (checked.outcome == .passed)
                    if done || attempt > retries { return .finished(checked) }
                } catch let error as TemplateError {
                    throw error
                } catch {
                    // Polling goes on through an attempt that got no answer (a service that is
                    // not up yet), as a retry does, until `max` attempts.
                    let further = request.repeatUntil.map { $0.max - 1 } ?? retries
                    if attempt > further || cancellation?.isCancelled == true {
                        result.attempts = attempt
                        result.outcome = .error
                        result.problem = RequestProblem(Self.kind(of: error), redactor.redact("\(error)"))
                        if let redirect = error as? RedirectError {
                            result.redirects = redirect.hops.map { $0.mapURLs(redactor.redact) }
                        }
                        return .finished(result)
                    }
                }
                wait(request.retry?.delay.duration ?? request.repeatUntil?.delay.duration ?? .seconds(1))
            }
        } catch let error as TemplateError {
            result.outcome = .error
            result.problem = RequestProblem(.template, redactor.redact("template: \(error.message)"))
            return .finished(result)
        } catch {
            result.outcome = .error
            result.problem = RequestProblem(Self.kind(of: error), redactor.redact("\(error)"))
            return .finished(result)
        }
    }

    /// A capture step `index` reads that was never taken, as the reason to skip it: one only
    /// steps this run's selection left out take, or one of a request that did not pass or was
    /// skipped.
    func missingCapture(_ step: PlanStep, index: Int) -> SkipReason? {
        for name in readNames[index] {
            if step.scope == 0, let owner = plan.leftOutCaptures[name], scope.source(of: name) == nil {
                return .leftOutCapture(name, capturedBy: owner)
            }
            if let failed = failedCaptures[captureKey(name, step.scope)] {
                return .failedCapture(failed.name ?? name, capturedBy: failed.request, whichWasSkipped: failed.skipped)
            }
        }
        return nil
    }

    /// Waits on the clock (`delay:`, a retry's delay); a cancelled run stops waiting within
    /// a twentieth of a second.
    func wait(_ duration: Duration) {
        guard let cancellation else { return clock.sleep(duration) }
        var left = duration
        while left > .zero && !cancellation.isCancelled {
            let slice = min(left, .milliseconds(50))
            clock.sleep(slice)
            left -= slice
        }
    }

    /// The kind of a failure to render or send.
    static func kind(of error: Error) -> RequestProblem.Kind {
        switch error {
        case let error as TransportError: error.kind
        case let error as RedirectError: error.kind
        case let error as RunnerError: error.kind
        case is TemplateError: .template
        default: .transport
        }
    }

    /// 3. Without a status expectation, a status outside 200–399 fails the request; a
    /// response with no HTTP status at all (an HTTP/0.9 answer, say) never passes. Nil when it holds.
    static func implicitStatusCheck(_ request: RequestSpec, _ status: Int) -> CheckResult? {
        if status < 100 {
            return CheckResult(
                subject: "status", expected: "an HTTP status", actual: String(status), passed: false, message: "the response has no HTTP status",
                location: request.location)
        }
        let hasStatusExpectation = request.expectations.contains { if case .status = $0.subject { return true } else { return false } }
        if !hasStatusExpectation && !(200..<400).contains(status) {
            return CheckResult(
                subject: "status", expected: "200–399 (no status expectation)", actual: String(status), passed: false, message: "HTTP \(status)",
                location: request.location)
        }
        return nil
    }

    /// Whether `skip:` holds: it must render to a boolean (`true` or `false`, or the spellings
    /// `yes`/`no`, `on`/`off`, `1`/`0`, in any case); anything else is an error of the request.
    static func isTrue(_ skip: Template, in scope: some TemplateContext) throws -> Bool {
        let value = try skip.renderValue(in: scope)
        if let flag = Booleans.parse(value) { return flag }
        throw RunnerError("skip: \(skip.source) rendered \(value.jsonText), which is not true or false (nor yes/no, on/off, 1/0)", kind: .template)
    }

    /// The credentials libcurl wrote itself (a .netrc's login and password, a Digest or NTLM
    /// answer, an AWS signature): Sonde never saw them, so they are learned from the header
    /// fields sent, and masked wherever they appear, a server's echo included.
    func noteTransportCredentials(_ sent: [(name: String, value: String)]) {
        for field in sent where field.name.equalsIgnoringASCIICase("Authorization") {
            let parts = field.value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let credentials = String(parts[1])
            scope.noteSecret(.string(credentials))
            if String(parts[0]).equalsIgnoringASCIICase("Basic"), let decoded = Data(base64Encoded: credentials).flatMap({ String(data: $0, encoding: .utf8) }) {
                scope.noteSecret(.string(decoded))
                if let colon = decoded.firstIndex(of: ":"), decoded.index(after: colon) < decoded.endIndex {
                    scope.noteSecret(.string(String(decoded[decoded.index(after: colon)...])))
                }
            }
        }
    }

    /// 4. Takes the captures into the scope; the first that fails, described.
    func capture(_ request: RequestSpec, _ exchange: Exchange) -> String? {
        var captureError: String?
        for capture in request.captures {
            var outcome = exchange.capture(capture)
            var fromSecret = false
            if let filters = capture.filters {
                // Nothing found goes through the filters too: `count` makes it 0, `default(x)` x.
                let found: Actual
                switch outcome {
                case .success(.text(let text)): found = .text(text)
                case .success(.json(let value)): found = .value(value)
                case .failure: found = .missing
                }
                let (filtered, _, computedFromSecret) = ValuePredicate.filter(found, filters, redactor: redactor, in: scope)
                switch filtered {
                case .success(let value):
                    fromSecret = computedFromSecret
                    outcome = .success(.json(value))
                case .failure(let failure):
                    // What was not found is said as such, not as a filter's failure.
                    if case .success = outcome { outcome = .failure("filters \(filters.description): \(failure.message)") }
                }
            }
            switch capture.source {
            case .xpath, .digest: fromSecret = fromSecret || exchange.holdsSecret(redactor)
            default: break
            }
            if fromSecret, case .success(let value) = outcome, !(value.json.arrayValue != nil || value.json.objectValue != nil || Redactor.masksAsLeaf(value.json)) {
                // Short or a plain word: as a secret it would mask every such text of the output.
                fromSecret = false
            }
            switch outcome {
            case .success(let value):
                // The scope tells the redactor when the value is secret (`secret: true`, or a name in `secrets:`);
                // a value filters computed from a secret is one too.
                if case .text(let text) = value {
                    scope.capture(capture.name, .string(text), isText: true, secret: capture.secret || fromSecret)
                } else {
                    scope.capture(capture.name, value.json, secret: capture.secret || fromSecret)
                }
            case .failure(let message):
                // Where the capture is written, as a failed expectation says where it is.
                captureError = captureError ?? "capture '\(capture.name)' (\(capture.location)): \(message)"
            }
        }
        return captureError
    }

    /// `diff: { ignore: … }`: the body's JSON without those nodes, whose hash and shape the
    /// history keeps, so that `sonde diff` sees no change in them. Nil for a body that is not
    /// JSON, or a path that cannot be evaluated on it: the body is then hashed whole.
    func keptForDiffs(_ paths: [JSONPath], _ exchange: Exchange) -> (JSONValue, [NormalizedPath])? {
        guard case .success(let document) = exchange.json else { return nil }
        var locations: [NormalizedPath] = []
        for path in paths {
            guard let nodes = try? path.nodes(in: document) else { return nil }
            locations += nodes.map(\.location)
        }
        return (document.removing(locations), locations)
    }

    /// 5. The expectations, then the body's hash and shape, and the outcome. A function of
    /// the exchange and the variables' snapshot: it may run while the next request is sent.
    func expectations(_ sent: Sent) -> RequestResult {
        var result = sent.result
        let request = sent.request
        let exchange = sent.exchange
        let response = exchange.response
        result.status = response.status
        result.timings = response.timings
        result.responseSize = response.body.count
        // What the history hashes: the body, or with `diff: { ignore: … }` its JSON without
        // those nodes.
        var hashed = response.body
        var ignoring: (kept: JSONValue, ignored: [NormalizedPath])?
        if options.records, !request.diffIgnore.isEmpty, let (kept, ignored) = keptForDiffs(request.diffIgnore, exchange) {
            hashed = Array(kept.jsonText.utf8)
            ignoring = (kept, ignored)
        }
        /// Where the shape comes from, once the checks have run: the document they parsed,
        /// rather than the body to parse a second time on the recorder's thread.
        func noteShape() {
            if let ignoring {
                result.shapeSource = .documentIgnoring(ignoring.kept, ignoring.ignored, redactor)
            } else {
                result.shapeSource = exchange.shapeSource(redactor)
            }
            if options.records, response.body.count >= Self.largeBody, let source = result.shapeSource {
                result.shapeSource = source.shape.map(ShapeSource.computed)
            }
        }
        if options.records {
            let rawHash = Digest.sha256(hashed)
            result.bodyHash = rawHash
            retain(hashed, at: result.position)
            if !redactor.isEmpty {
                // A hash computed from a secret could be checked against guesses of it: a body
                // that holds one is hashed with it masked (it then differs from sha256sum's).
                // The same body with the same secrets gives the same hash: searched once.
                if maskedHashes.secretCount != redactor.count {
                    maskedHashes = (redactor.count, [:])
                }
                if let known = maskedHashes.byRawHash[rawHash] {
                    result.bodyHash = known
                } else {
                    let text = String(decoding: hashed, as: UTF8.self)
                    let masked = redactor.redact(text)
                    if masked != text { result.bodyHash = Digest.sha256(masked) }
                    if maskedHashes.byRawHash.count < 4096 { maskedHashes.byRawHash[rawHash] = result.bodyHash }
                }
            }
        }
        do {
            var checks: [CheckResult] = sent.statusCheck.map { [$0] } ?? []
            if let untilCheck = sent.untilCheck { checks.append(untilCheck) }
            for expectation in request.expectations {
                checks.append(try evaluate(expectation, exchange, variables: sent.variables))
            }
            result.checks = checks
        } catch {
            result.outcome = .error
            result.problem = RequestProblem(.template, redactor.redact("template: \(error.message)"))
            noteShape()
            return result
        }
        noteShape()
        let passed = result.checks.allSatisfy(\.passed) && sent.captureError == nil
        if options.keepExchanges {
            result.responseHeaders = response.headers.map { (redactor.redact($0.name), redactor.redact($0.value)) }
            result.responseBody = redactor.redact(exchange.displayText)
            if !passed { result.responseExcerpt = result.responseBody.map { Redactor.cut($0, limit: 600) } }
        } else if !passed {
            result.responseExcerpt = redactor.excerpt(exchange.displayText, limit: 600)
        }
        if let captureError = sent.captureError {
            result.outcome = .failed
            result.problem = RequestProblem(.capture, captureError)
        } else {
            result.outcome = passed ? .passed : .failed
        }
        return result
    }

    /// 5. One expectation; everything it shows is masked with the redactor of the moment
    /// (secrets its own expected values compute are known once they are rendered).
    func evaluate(_ expectation: Expectation, _ exchange: Exchange, variables scope: VariableScope) throws(TemplateError) -> CheckResult {
        var subject: String
        var actual: Actual
        var binarySummary: String?
        // Filters computed from a secret add their result to it.
        var redactor = self.redactor
        // The value was computed from a secret: shown as a mask, never in pieces.
        var hideValue = false
        switch expectation.subject {
        case .status:
            subject = "status"
            // A status the collection computes (`status: "{{ want }}"`, `--var want=200`) may
            // render as text: compared as the status line's text is, by value against a number.
            actual = expectation.predicate.templates.isEmpty ? .value(.int(exchange.response.status)) : .text(String(exchange.response.status))
        case .header(let name):
            subject = "header \(name)"
            let lines = exchange.headerLines(name)
            actual = lines.isEmpty ? .missing : lines.count == 1 ? .text(lines[0]) : .lines(lines)
        case .template(let template):
            subject = template.soleVariable.map { "vars \($0)" } ?? "vars \(template.source)"
            do {
                // A secret alone is masked as it is; anything computed from one is not shown,
                // and not learned as a secret (a short one would mask every `1` of the output).
                hideValue = template.soleVariable == nil && template.readsSecret(in: scope)
                actual = .value(hideValue ? try template.renderValue(in: SecretsUnnoted(scope)) : try template.renderValue(in: scope))
            } catch where error.undefinedName != nil {
                actual = .missing
            } catch {
                // A filter of the template that fails fails this check, not the request.
                let message = template.readsSecret(in: scope) ? "a filter failed on a value computed from a secret (not shown)" : error.message
                return CheckResult(subject: subject, expected: redactor.redact(try expectation.predicate.describeExpected(in: scope)),
                    actual: "a template that cannot be rendered", passed: false, message: self.redactor.redact(message), location: expectation.location)
            }
        case .version:
            subject = "version"
            actual = .text(exchange.version)
        case .cookie(let name, let attribute):
            subject = attribute == .value ? "cookie \(name)" : "cookie \(name)[\(attribute.rawValue)]"
            switch exchange.cookieAttribute(name, attribute) {
            case .text(let text)?: actual = .text(text)
            case .json(let value)?: actual = .value(value)
            case nil: actual = .missing
            }
        case .cookieJar(let name, let attribute):
            subject = attribute == .value ? "cookie jar \(name)" : "cookie jar \(name)[\(attribute.rawValue)]"
            switch exchange.jarCookie(name, attribute) {
            case .text(let text)?: actual = .text(text)
            case .json(let value)?: actual = .value(value)
            case nil: actual = .missing
            }
        case .ip:
            subject = "ip"
            actual = exchange.response.ip.map(Actual.text) ?? .missing
        case .certificate(let field):
            subject = "certificate \(field.rawValue)"
            actual = exchange.response.certificate?[field.rawValue].map(Actual.text) ?? .missing
        case .digest(let kind):
            subject = kind.rawValue
            actual = .text(exchange.digest(kind))
            // The digest of a body that holds a secret could be checked against guesses of it.
            hideValue = exchange.holdsSecret(redactor)
        case .xpath(let expression):
            subject = expression
            switch exchange.xpath(expression) {
            case .failure(let error):
                return CheckResult(subject: subject, expected: redactor.redact(try expectation.predicate.describeExpected(in: scope)),
                    actual: error.isEvaluation ? "an XPath that cannot be evaluated on this body" : "a body that XPath cannot read", passed: false,
                    message: redactor.excerpt(error.message, limit: 500), location: expectation.location)
            case .success(.nodes(let nodes)):
                actual = nodes.isEmpty ? .missing : nodes.count == 1 ? .text(nodes[0]) : .value(.array(nodes.map(JSONValue.string)))
            case .success(let value): actual = .value(value.json)
            }
            // XPath can cut a secret the body holds into pieces masking cannot find.
            hideValue = exchange.holdsSecret(redactor)
        case .bytes(let check):
            subject = "bytes"
            let outcome = try check.evaluate(exchange.response.body, in: scope)
            return CheckResult(subject: subject, expected: redactor.redact(try check.describeExpected(in: scope)),
                actual: BodySummary.grouped(exchange.response.body.count) + " bytes", passed: outcome.passed,
                message: outcome.message.map { redactor.excerpt($0, limit: 500) }, location: expectation.location)
        case .body:
            subject = "body"
            let contentType = exchange.header("Content-Type")
            if BodySummary.isBinary(exchange.response.body, contentType: contentType) {
                binarySummary = BodySummary.binary(exchange.response.body.count, contentType: contentType)
            }
            switch exchange.decodedText {
            case .success(let text): actual = .text(text)
            case .failure(let error):
                return CheckResult(subject: subject, expected: redactor.redact(try expectation.predicate.describeExpected(in: scope)),
                    actual: "a body that cannot be decoded", passed: false, message: error.message, location: expectation.location)
            }
        case .duration:
            subject = "duration"
            actual = .value(.double(exchange.durationMilliseconds))
        case .jsonpath(let path):
            subject = path.text
            guard case .success(let document) = exchange.json else {
                return CheckResult(subject: subject, expected: redactor.redact(try expectation.predicate.describeExpected(in: scope)), actual: "a body that is not JSON",
                    passed: false, message: exchange.jsonError, location: expectation.location)
            }
            do {
                if path.isSingular {
                    actual = try path.values(in: document).first.map(Actual.value) ?? .missing
                } else {
                    actual = .nodes(try path.nodes(in: document))
                }
            } catch {
                // The query stopped at a limit: an error of this check, never a verdict on its value.
                return CheckResult(subject: subject, expected: redactor.redact(try expectation.predicate.describeExpected(in: scope)),
                    actual: "a query that could not finish", passed: false, message: redactor.redact(error.message), location: expectation.location)
            }
        case .url:
            subject = "url"
            actual = .text(exchange.url)
        case .redirects:
            subject = "redirects"
            actual = .value(.array(exchange.redirects.map(\.json)))
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
        var unit: String? = if case .duration = expectation.subject { "ms" } else { nil }
        var predicate = expectation.predicate
        // Reading the subject may have rendered a secret (`vars`): mask with what is known now.
        redactor = self.redactor
        // Filters first: the verdict shows what they gave, under the subject and its filters.
        if case .filtered(let chain, let inner) = predicate {
            let (filtered, masking, fromSecret) = ValuePredicate.filter(actual, chain, redactor: redactor, in: scope)
            redactor = masking
            hideValue = hideValue || fromSecret
            subject += " | " + chain.description
            switch filtered {
            case .failure(let failure):
                return CheckResult(subject: subject, expected: redactor.redact(try inner.describeExpected(unit: unit, redactor: redactor, in: scope)),
                    actual: "filters that could not apply", passed: false, message: redactor.excerpt(failure.message, limit: 500), location: expectation.location)
            case .success(let value):
                actual = .value(value)
                predicate = inner
                unit = nil
                binarySummary = nil
            }
        }
        // Expected values are rendered first: a secret they compute is masked in the verdict too.
        let expected = try predicate.describeExpected(unit: unit, redactor: redactor, in: scope)
        let outcome = try predicate.evaluate(actual, unit: unit, redactor: redactor, in: scope)
        if hideValue {
            return CheckResult(
                subject: subject, expected: redactor.redact(expected), actual: Redactor.mask, passed: outcome.passed,
                message: outcome.passed ? nil : "expected \(redactor.excerpt(expected, limit: 300)); the value, computed from a secret, is not shown",
                location: expectation.location)
        }
        // A binary body is summarised, never dumped into the verdict.
        if let binarySummary {
            return CheckResult(
                subject: subject, expected: redactor.redact(expected), actual: binarySummary, passed: outcome.passed,
                message: outcome.passed ? nil : "the body, \(binarySummary), does not hold: expected \(redactor.excerpt(expected, limit: 300))",
                location: expectation.location)
        }
        // Rendering may have found secrets computed from secrets: mask with what is known now.
        return CheckResult(
            subject: subject, expected: redactor.redact(expected),
            actual: redactor.excerpt(actual.display(atMost: 300 * 4 + redactor.longest, redactor: redactor), limit: 300) + (unit.map { " " + $0 } ?? ""),
            passed: outcome.passed, message: outcome.message.map { redactor.excerpt($0, limit: 500) }, location: expectation.location)
    }
}
