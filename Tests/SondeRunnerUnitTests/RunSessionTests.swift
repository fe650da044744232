import Foundation
import SondeCore
import SondeEngine
import SondeRunner
import SondeSpec
import SondeStore
import Testing

/// The session over scripted transports and the in-memory history: recording, listeners,
/// comparison, shared secrets and cancellation, without libcurl or a file.
struct RunSessionTests {
    final class Events: RunListener, @unchecked Sendable {
        private let lock = NSLock()
        private(set) var lines: [String] = []

        private func add(_ line: String) {
            lock.lock()
            lines.append(line)
            lock.unlock()
        }

        func collectionStarted(_ collection: SessionCollection) { add("start \(collection.name) \(collection.steps)") }
        func requestStarted(_ collection: SessionCollection, position: Int, name: String) { add("send \(collection.name) \(position) \(name)") }
        func requestFinished(_ collection: SessionCollection, _ result: RequestResult) { add("done \(collection.name) \(result.name) \(result.outcome)") }
        func collectionFinished(_ collection: SessionCollection, _ outcome: CollectionOutcome) {
            add("end \(collection.name) \(outcome.result?.outcome.rawValue ?? "-") \(outcome.result?.cancelled == true ? "cancelled" : "")")
        }
    }

    static func planned(_ yaml: String, file: String) throws -> PlannedCollection {
        PlannedCollection(
            try CollectionLoader(options: VariableOptions(assignments: ["base_url=http://api.test"], processEnvironment: [:])).load(text: yaml, file: file))
    }

    static let smoke = """
        name: smoke
        base_url: "{{ base_url }}"
        requests:
          - { name: health, url: /health }
          - { name: items, url: /items, expect: { jsonpath: { $.count: 2 } } }
        """

    @Test func aSessionRecordsTellsAndCompares() throws {
        let history = InMemoryHistory()
        let options = RunSession.Options(compare: RunDiff.Thresholds(), toolVersion: "test")
        var counts = [2, 3]
        for round in 0..<2 {
            let count = counts.removeFirst()
            let events = Events()
            let session = RunSession(collections: [try Self.planned(Self.smoke, file: "smoke.yaml")], history: history, options: options) { _ in
                ScriptedTransport(fallback: { request in
                    request.url.hasSuffix("/items") ? ScriptedTransport.response(200, #"{"count":\#(count)}"#) : ScriptedTransport.response(200, "{}")
                })
            }
            session.add(events)
            let outcome = session.run()
            #expect(!outcome.cancelled && outcome.failure == nil)
            let collection = try #require(outcome.collections.first)
            #expect(collection.runID == Int64(round + 1))
            #expect(events.lines.first == "start smoke 2" && events.lines.last?.hasPrefix("end smoke") == true)
            #expect(events.lines.filter { $0.hasPrefix("send") } == ["send smoke 0 health", "send smoke 1 items"])
            if round == 0 {
                #expect(collection.passed)
                if case .firstRun? = collection.comparison {} else { Issue.record("the first run has nothing to compare with") }
            } else {
                #expect(!collection.passed)
                guard case .diff(let diff)? = collection.comparison else {
                    Issue.record("no diff")
                    return
                }
                #expect(diff.isWorse && diff.requests.first { $0.name == "items" }?.changes.contains(.outcome(old: .passed, new: .failed)) == true)
            }
        }
        #expect(try history.runs(RunFilter()).map(\.outcome) == [.failed, .passed])
    }

    @Test func aSecretOfOneCollectionIsMaskedInAnother() throws {
        let giver = """
            name: giver
            base_url: "{{ base_url }}"
            vars: { key: "k3y-4bcdef-123456" }
            secrets: [key]
            requests:
              - { name: use, url: /use, headers: { X-Key: "{{ key }}" } }
            """
        let echo = """
            name: echo
            base_url: "{{ base_url }}"
            requests:
              - { name: echo, url: /echo, expect: { body: { contains: nothing } } }
            """
        let history = InMemoryHistory()
        let session = RunSession(
            collections: [try Self.planned(giver, file: "giver.yaml"), try Self.planned(echo, file: "echo.yaml")], history: history,
            options: RunSession.Options(keepRecords: true, toolVersion: "test")
        ) { _ in ScriptedTransport(fallback: { _ in ScriptedTransport.response(200, "the key was k3y-4bcdef-123456") }) }
        let outcome = session.run()
        let echoed = try #require(outcome.collections[1].record?.requests.first)
        #expect(echoed.responseExcerpt == "the key was ••••••")
        #expect(echoed.checks.first?.actual.contains("k3y-4bcdef-123456") == false)
    }

    /// A token captured by the first request is masked again in that request's record only:
    /// the requests after it knew it, and nothing else learned a secret (masking the whole run
    /// again at its end cost a fifth of a recorded run of 500 requests).
    @Test func aCaptureMasksAgainOnlyWhatCameBeforeIt() throws {
        let yaml = Self.collection(
            "login", Self.loginStep, #"{ name: one, url: /one, headers: { Authorization: "Bearer {{ token }}" } }"#,
            #"{ name: two, url: /two, headers: { Authorization: "Bearer {{ token }}" } }"#)
        let history = InMemoryHistory()
        let session = RunSession(collections: [try Self.planned(yaml, file: "login.yaml")], history: history, options: RunSession.Options(toolVersion: "test")) { _ in
            ScriptedTransport(fallback: { request in
                request.url.hasSuffix("/login") ? ScriptedTransport.response(200, Self.loginAnswer) : ScriptedTransport.response(200, "{}")
            })
        }
        let outcome = session.run()
        #expect(outcome.collections.first?.passed == true)
        #expect(history.redactionLimits == [1])
        let login = try #require(try history.run(id: 1)?.requests.first)
        #expect(!login.url.contains("t0k-5ecret") && !(login.responseExcerpt ?? "").contains("t0k-5ecret-9876543"))
    }

    /// With two collections at once, a secret one learns while the other's request is on the
    /// wire is masked in the other's next request as it is rendered and recorded (its URL holds
    /// the value as written), not only in what the other recorded before.
    @Test func aSecretLearnedByAnotherCollectionMidRunIsMaskedInTheNextRequest() throws {
        let learner = Self.collection("learner", Self.loginStep)
        let other = Self.collection("other", "{ name: slow, url: /slow }", #"{ name: uses it, url: "/echo?key=t0k-5ecret-9876543" }"#)
        let history = InMemoryHistory()
        let box = SessionBox()
        let session = RunSession(
            collections: [try Self.planned(other, file: "other.yaml"), try Self.planned(learner, file: "learner.yaml")], history: history,
            options: RunSession.Options(jobs: 2, toolVersion: "test")
        ) { _ in
            ScriptedTransport(fallback: { request in
                if request.url.hasSuffix("/login") { return ScriptedTransport.response(200, Self.loginAnswer) }
                if request.url.hasSuffix("/slow") {
                    // On the wire until the learner has told the session its secret.
                    let deadline = Date().addingTimeInterval(10)
                    while (box.session?.secretsKnown ?? 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
                }
                return ScriptedTransport.response(200, "{}")
            })
        }
        box.session = session
        let outcome = session.run()
        #expect(outcome.collections.allSatisfy { $0.passed })
        let recorded = try #require(try history.run(id: outcome.collections[0].runID ?? 0))
        #expect(recorded.requests.count == 2)
        #expect(recorded.requests.allSatisfy { !$0.url.contains("t0k-5ecret") }, "\(recorded.requests.map(\.url))")
    }

    final class SessionBox: @unchecked Sendable {
        var session: RunSession?
    }

    /// A collection on `base_url` with these steps (flow mappings).
    static func collection(_ name: String, _ steps: String...) -> String {
        "name: \(name)\nbase_url: \"{{ base_url }}\"\nrequests:\n" + steps.map { "  - \($0)\n" }.joined()
    }

    /// A login that captures a secret token, and what the scripted server answers it.
    static let loginStep = "{ name: login, url: /login, capture: { token: { jsonpath: $.token, secret: true } } }"
    static let loginAnswer = #"{"token":"t0k-5ecret-9876543"}"#

    @Test func cancellingLeavesTheRunIncompleteWithWhatFinished() throws {
        let history = InMemoryHistory()
        let yaml = """
            name: long
            base_url: "{{ base_url }}"
            requests:
              - { name: one, url: /1 }
              - { name: two, url: /2 }
              - { name: three, url: /3 }
            """
        let box = SessionBox()
        let session = RunSession(collections: [try Self.planned(yaml, file: "long.yaml")], history: history, options: .init(toolVersion: "test")) { _ in
            ScriptedTransport(fallback: { request in
                if request.url.hasSuffix("/2") { box.session?.cancel() }
                return ScriptedTransport.response(200, "{}")
            })
        }
        box.session = session
        let outcome = session.run()
        #expect(outcome.cancelled)
        #expect(outcome.collections[0].result?.cancelled == true)
        let run = try #require(try history.run(id: 1))
        #expect(run.finished == nil && run.outcome == nil)
        #expect(run.requests.map(\.name) == ["one"])
        #expect(!outcome.collections[0].passed, "a cancelled run never passes")
    }

    /// Unrecorded (--no-save), the reports are made from the results: a secret captured by a
    /// later request is masked in the earlier ones there too.
    @Test func anUnrecordedRunsRecordIsMaskedWithLaterSecrets() throws {
        let yaml = """
            name: later
            base_url: "{{ base_url }}"
            requests:
              - { name: early, url: /early, expect: { status: 201 } }
              - name: login
                url: /login
                capture: { token: { jsonpath: $.token, secret: true } }
            """
        let session = RunSession(
            collections: [try Self.planned(yaml, file: "later.yaml")], history: nil, options: RunSession.Options(keepRecords: true, toolVersion: "test")
        ) { _ in
            ScriptedTransport(fallback: { request in
                request.url.hasSuffix("/login")
                    ? ScriptedTransport.response(200, #"{"token":"Tok3n-Sup3rSecr3t"}"#) : ScriptedTransport.response(200, #"{"seen":"Tok3n-Sup3rSecr3t"}"#)
            })
        }
        let outcome = session.run()
        let early = try #require(outcome.collections[0].record?.requests.first)
        #expect(early.outcome == .failed)
        #expect(early.responseExcerpt == #"{"seen":"••••••"}"#)
        #expect(session.maskKnownSecrets("x Tok3n-Sup3rSecr3t y") == "x •••••• y")
    }
}


/// Holds the session for a transport that cancels it.
final class SessionBox: @unchecked Sendable {
    var session: RunSession?
}
