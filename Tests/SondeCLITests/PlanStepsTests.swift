import Foundation
import SondeCore
import SondeMock
import SondeTestSupport
import Testing

/// Includes, setup and teardown, loops, tags and selection, through the binary, against
/// the mock on loopback: what users read (golden files) and what the history keeps.
@Suite(.serialized)
struct PlanStepsTests {
    static let team = Sonde.packageRoot.appendingPathComponent("examples/team")

    /// A copy of examples/team in a fresh folder (collections/, common/, data/).
    static func teamCopy(into folder: URL) throws {
        for part in ["collections", "common", "data"] {
            try FileManager.default.copyItem(at: team.appendingPathComponent(part), to: folder.appendingPathComponent(part))
        }
    }

    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    static func write(_ text: String, to path: String, in folder: URL) throws {
        let url = folder.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// A run with a setup that creates something, a request that fails, and a teardown that
    /// deletes it: the teardown runs after the failure, with --fail-fast too.
    static let teardownCollection = """
        name: orders
        base_url: "{{ base }}"
        setup:
          - name: create an order
            method: POST
            url: /echo/orders
            json: { id: "order-7" }
            capture: { order: $.json.id }
        requests:
          - name: the order is listed
            url: /status/404
            expect: { status: 200 }
          - name: the order has a total
            url: /echo/orders/{{ order }}
        teardown:
          - name: delete the order
            method: DELETE
            url: /echo/orders/{{ order }}
            expect:
              jsonpath: { $.method: DELETE, $.path: /echo/orders/order-7 }

        """

    /// The plan of examples/team, its run over the mock (an included login shared by two
    /// collections, a loop over a captured list, a loop over a CSV file), a selection that
    /// pulls in its login, a teardown after a failure, and the load errors of includes.
    @Test func goldenPlansRunsAndErrors() async throws {
        try await Golden.verify { scene in
            try Self.teamCopy(into: scene.folder)
            try scene.write("orders.yaml", Self.teardownCollection)
            try Self.write(Self.badSetup, to: "bad-setup.yaml", in: scene.folder)
            try Self.writeBadIncludes(in: scene.folder)
            let base = ["--var", "base_url=\(scene.server.baseURL)"]
            return [
                "plan-validate.txt": try await scene.sonde(["validate", "collections"]).text,
                "plan-dry-run.txt": try await scene.sonde(["run", "collections/components.yaml", "--dry-run"]).text
                    + (try await scene.sonde(["run", "collections", "--dry-run", "--tag", "smoke"]).text),
                "plan-run.txt": try await scene.sonde(["run", "collections"] + base).text
                    + (try await scene.sonde(["run", "collections/smoke.yaml", "--request", "component statuses"] + base).text)
                    + (try await scene.sonde(["run", "collections/components.yaml", "--tag", "smoke"] + base).text)
                    // (Latency on a loaded machine is not what this shows.)
                    + (try await scene.sonde(["diff", "--latency-floor", "10s"]).text),
                "plan-teardown.txt": try await scene.sonde(["run", "orders.yaml", "--var", "base=\(scene.server.baseURL)"]).text
                    + (try await scene.sonde(["run", "orders.yaml", "--fail-fast", "--var", "base=\(scene.server.baseURL)"]).text)
                    + (try await scene.sonde(["run", "bad-setup.yaml", "--var", "base=\(scene.server.baseURL)"]).text),
                "plan-errors.txt": try await scene.sonde(["validate", "broken"]).text
                    + (try await scene.sonde(["run", "collections", "--request", "compnent", "--dry-run"]).text)
                    + (try await scene.sonde(["run", "collections", "--tag", "smok", "--dry-run"]).text),
            ]
        }
    }

    /// A setup that fails: the requests are skipped, the teardown runs, and a teardown that
    /// fails is said apart.
    static let badSetup = """
        name: bad-setup
        base_url: "{{ base }}"
        setup:
          - name: log in
            url: /status/500
            capture: { token: $.token }
        requests:
          - name: list
            url: /echo/list
        teardown:
          - name: clean up
            method: DELETE
            url: /echo/all
            expect: { status: 204 }

        """

    /// Every kind of load error of includes, loops and tags, each in its own file of broken/.
    static func writeBadIncludes(in folder: URL) throws {
        try write(
            """
            name: missing
            requests:
              - include: ../common/nowhere.yaml
            """, to: "broken/missing.yaml", in: folder)
        try write(
            """
            name: cycle-a
            requests:
              - include: cycle-b.inc
            """, to: "broken/cycle-a.yaml", in: folder)
        try write(
            """
            name: cycle-b
            requests:
              - include: cycle-a.yaml
            """, to: "broken/cycle-b.inc", in: folder)
        try write(
            """
            name: inner-error
            base_url: http://127.0.0.1:1
            vars: { user: me }
            requests:
              - include: inner.inc
                with: { usr: "{{ user }}", user: "{{ user }}" }
              - name: after
                url: /after/{{ secret_token }}
            """, to: "broken/inner-error.yaml", in: folder)
        try write(
            """
            name: inner
            exports: [token, secret_token]
            setup:
              - name: no setup here
                url: /x
            requests:
              - name: login
                url: /login/{{ user }}
                expcet: { status: 200 }
                capture: { token: $.token }
            """, to: "broken/inner.inc", in: folder)
        try write(
            """
            name: loops
            base_url: http://127.0.0.1:1
            requests:
              - name: both
                url: /a
                for_each: { items: [1, 2], data: ../data/components.csv }
              - name: bad csv
                url: /b
                for_each: { data: bad.csv }
              - name: loop and repeat
                url: /c
                for_each: [a, b]
                repeat: 3
              - name: repeat without until
                url: /d
                repeat: { max: 3 }
              - name: not a list
                url: /e
                for_each: just text
              - name: binding
                url: /f/{{ item }}
                for_each: { items: [x], as: 9lives }
              - name: tags
                url: /g
                tags: [two words]
              - name: retry and repeat
                url: /h
                retry: { count: 2 }
                repeat: { until: { status: 200 } }
            """, to: "broken/loops.yaml", in: folder)
        try write(
            """
            name: no-base
            requests:
              - include: relative.inc
            """, to: "broken/no-base.yaml", in: folder)
        try write(
            """
            name: relative
            requests:
              - name: r
                url: /relative
            """, to: "broken/relative.inc", in: folder)
        try write(
            """
            name: with-typo
            base_url: http://127.0.0.1:1
            requests:
              - include: ../common/login.yaml
                with: { usernme: ci }
            """, to: "broken/with-typo.yaml", in: folder)
        try write(
            """
            name: twice
            base_url: http://127.0.0.1:1
            requests:
              - include: ../common/login.yaml
              - include: ../common/login.yaml
              - name: login/login
                url: /x
              - name: each
                for_each: [a]
                url: /each
              - name: each [a]
                url: /each-a
            """, to: "broken/twice.yaml", in: folder)
        try write("name,role\nscheduler,control-plane\netcd-0,storage,extra\n", to: "broken/bad.csv", in: folder)
        try write(
            """
            name: defaults-too-early
            base_url: http://127.0.0.1:1
            defaults:
              headers: { Authorization: "Bearer {{ token }}" }
            requests:
              - name: login
                url: /login
                capture: { token: $.token }
              - name: after
                url: /after
            """, to: "broken/defaults.yaml", in: folder)
    }
}

extension PlanStepsTests {
    /// Runs `sonde` from `folder` with the history in it.
    static func sonde(_ arguments: [String], in folder: URL) async throws -> Sonde.Result {
        try await Sonde.runAsync(arguments, environment: ["SONDE_DB": folder.appendingPathComponent("history.sqlite").path], directory: folder)
    }

    /// Two runs of one plan: every step (an included one, each iteration of both loops) is
    /// matched by its name, none added or removed; phases and names are recorded as run.
    @Test func twoRunsOfOnePlanDiffStepByStep() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.teamCopy(into: folder)
        for _ in 0..<2 {
            let run = try await Self.sonde(["run", "collections/components.yaml", "--var", "base_url=\(server.baseURL)"], in: folder)
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        }
        let diff = try await Self.sonde(["diff", "--json"], in: folder)
        let json = try JSONValue.parse(diff.stdout)
        let requests = json["diffs"]?[0]?["requests"]?.arrayValue ?? []
        #expect(requests.count == 10, "\(diff.stdout)")
        #expect(requests.allSatisfy { $0["kind"] == "compared" }, "\(diff.stdout)")
        let shown = try await Self.sonde(["show", "2", "--json"], in: folder)
        let recorded = try JSONValue.parse(shown.stdout)["run"]?["requests"]?.arrayValue ?? []
        let steps = recorded.compactMap { $0["step"]?.stringValue }
        #expect(steps == [
            "login/login", "list components", "component [scheduler]", "component [controller-manager]", "component [etcd-0]", "component [etcd-1]",
            "component [etcd-2]", "expected component [scheduler]", "expected component [controller-manager]", "expected component [etcd-0]",
        ])
        #expect(recorded.first?["phase"] == "setup")
        #expect(recorded.dropFirst().allSatisfy { $0["phase"] == "main" })
        // A component that went away is one removed step, not a shift of every index.
        server.state.setComponents(["scheduler", "controller-manager", "etcd-0", "etcd-2"])
        let third = try await Self.sonde(["run", "collections/components.yaml", "--var", "base_url=\(server.baseURL)"], in: folder)
        #expect(third.status == 0, "\(third.stdout)")
        let after = try JSONValue.parse(try await Self.sonde(["diff", "--json"], in: folder).stdout)
        let kinds = (after["diffs"]?[0]?["requests"]?.arrayValue ?? []).map { "\($0["name"]?.stringValue ?? ""):\($0["kind"]?.stringValue ?? "")" }
        #expect(kinds.filter { !$0.hasSuffix(":compared") } == ["component [etcd-1]:removed"], "\(kinds)")
    }

    /// Polling, `repeat: N`, `--data`, a loop with no items, a list that is not one, and a
    /// loop whose list a failed capture did not take.
    @Test func repeatPollingDataAndLoopEdges() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.write(
            """
            name: loops
            base_url: "{{ base }}"
            requests:
              - name: job
                url: /flaky?key=job-{{ run }}&failures=2
                repeat: { until: { status: 200, jsonpath: { $.ready: true } }, max: 5, delay: 20ms }
                expect: { jsonpath: { $.call: 3 } }
              - name: never ready
                url: /flaky?key=never-{{ run }}&failures=50
                repeat: { until: { status: 200 }, max: 3, delay: 10ms }
              - name: ping
                url: /echo/ping/{{ item }}
                repeat: 3
                expect: { jsonpath: { $.path: "/echo/ping/{{ item }}" } }
              - name: user
                for_each: { items: "{{ data }}", as: user, name: "{{ user.login }}" }
                url: /echo/users/{{ user.login }}
                expect: { jsonpath: { $.path: { starts_with: /echo/users/ } } }
              - name: nothing
                for_each: []
                url: /echo/never
              - name: not a list
                for_each: "{{ base }}"
                url: /echo/never
              - name: not up yet
                url: "{{ closed }}/health"
                repeat: { until: { status: 200 }, max: 2, delay: 10ms }
              - name: broken list
                url: /status/500
                capture: { items: $.items }
              - name: each broken
                for_each: "{{ items }}"
                url: /echo/never
            """, to: "loops.yaml", in: folder)
        try Self.write("login,team\nada,core\n\"lin, the second\",\"web \"\"front\"\"\"\n", to: "users.csv", in: folder)
        let closed = try ClosedPort()
        let run = try await Self.sonde(
            [
                "run", "loops.yaml", "--var", "base=\(server.baseURL)", "--var", "run=\(UUID().uuidString)", "--data", "users.csv",
                "--var", "closed=http://127.0.0.1:\(closed.port)",
            ], in: folder)
        withExtendedLifetime(closed) {}
        #expect(run.status == 1)
        let out = run.stdout
        #expect(out.contains("✓ job  GET"), "\(out)")
        #expect(out.contains("(3 attempts)"), "\(out)")
        #expect(out.contains("✗ never ready"), "\(out)")
        #expect(out.contains("repeat until status"), "\(out)")
        #expect(out.contains("still not so after 3 attempts (max 3)"), "\(out)")
        for n in 1...3 { #expect(out.contains("✓ ping [\(n)]  GET"), "\(out)") }
        #expect(out.contains("✓ user [ada]  GET"), "\(out)")
        #expect(out.contains("✓ user [lin, the second]  GET"), "\(out)")
        #expect(out.contains("- nothing  GET /echo/never\n      skipped: for_each: the list is empty"), "\(out)")
        #expect(out.contains("! not a list"), "\(out)")
        #expect(out.contains("is a string, not a list"), "\(out)")
        #expect(out.contains("- each broken"), "\(out)")
        // Polling goes on through a refused connection, to its max.
        #expect(out.contains("! not up yet") && out.contains("(2 attempts)\n      error:"), "\(out)")
        #expect(out.contains("needs 'items', captured by request 'broken list', which did not pass"), "\(out)")
        #expect(!out.contains("/echo/never  200"), "\(out)")
    }
}

extension PlanStepsTests {
    /// A secret passed to an include by `with:`, and a loop over a secret list: masked in
    /// what the terminal, -vv and the history show, and an iteration is named by its number,
    /// never by a secret.
    @Test func secretsThroughIncludesAndLoopsStayMasked() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.write(
            """
            name: secret-loops
            base_url: "{{ base }}"
            vars: { pw: "s3cr3t-Pa55word-x" }
            secrets: [pw]
            requests:
              - include: inc/send.yaml
                with: { password: "{{ pw }}" }
              - name: echoed back
                url: /echo/check
                headers: { X-Echo: "{{ echoed }}" }
              - name: tokens
                url: /respond
                query: { content_type: application/json, body: '{"tokens": ["tok-AAAA-1111-secret", "tok-BBBB-2222-secret"]}' }
                capture: { tokens: { jsonpath: $.tokens, secret: true } }
              - name: use
                for_each: "{{ tokens }}"
                url: /echo/use
                headers: { X-Token: "{{ item }}" }
                expect: { jsonpath: { "$.headers['X-Token']": "{{ item }}" } }
            """, to: "c.yaml", in: folder)
        try Self.write(
            """
            name: send
            exports: [echoed]
            requests:
              - name: send
                method: POST
                url: /echo/login
                json: { password: "{{ password }}" }
                capture: { echoed: $.json.password }
                expect: { jsonpath: { $.json.password: "{{ password }}" } }
            """, to: "inc/send.yaml", in: folder)
        let run = try await Self.sonde(["run", "c.yaml", "-vv", "--var", "base=\(server.baseURL)", "--report", "json:r.json"], in: folder)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("✓ send/send  POST"), "\(run.stdout)")
        #expect(run.stdout.contains("✓ use [1]  GET") && run.stdout.contains("✓ use [2]  GET"), "\(run.stdout)")
        let report = try String(contentsOf: folder.appendingPathComponent("r.json"), encoding: .utf8)
        let database = try Data(contentsOf: folder.appendingPathComponent("history.sqlite"))
        for secret in ["s3cr3t-Pa55word-x", "tok-AAAA-1111-secret", "tok-BBBB-2222-secret"] {
            #expect(!run.stdout.contains(secret), "\(secret) in the terminal")
            #expect(!run.stderr.contains(secret))
            #expect(!report.contains(secret), "\(secret) in the report")
            #expect(database.range(of: Data(secret.utf8)) == nil, "\(secret) in the history")
        }
    }
}

extension PlanStepsTests {
    /// Loop iterations never take another step's name (an item "dup (2)" after two "dup"; a
    /// request named like an iteration is a load error), and a loop after one over secrets names its plain items
    /// in clear: a loop's variable is secret only while its item is.
    @Test func iterationNamesAreUniqueAndNotSecretAfterASecretLoop() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.write(
            """
            name: names
            base_url: "{{ base }}"
            vars: { pw: hunter2-LOOP-secret }
            secrets: [pw]
            requests:
              - name: computed
                for_each: ["{{ pw }}", "{{ pw | upper }}"]
                url: /echo/secret
              - name: a
                for_each: ["dup", "dup", "dup (2)", "1", 1]
                url: /echo/a?n=1&m=2
            """, to: "names.yaml", in: folder)
        for _ in 0..<2 {
            let run = try await Self.sonde(["run", "names.yaml", "--var", "base=\(server.baseURL)"], in: folder)
            #expect(run.status == 0, "\(run.stdout)")
            #expect(!run.stdout.contains("hunter2"), "\(run.stdout)")
            #expect(run.stdout.contains("✓ computed [1]  GET") && run.stdout.contains("✓ computed [2]  GET"), "\(run.stdout)")
            #expect(run.stdout.contains("/echo/a?n=1&m=2"), "plain numbers are not masked: \(run.stdout)")
        }
        let shown = try JSONValue.parse(try await Self.sonde(["show", "--json"], in: folder).stdout)
        let steps = (shown["run"]?["requests"]?.arrayValue ?? []).compactMap { $0["step"]?.stringValue }
        #expect(steps == ["computed [1]", "computed [2]", "a [dup]", "a [dup (2)]", "a [dup (2) (2)]", "a [1]", "a [1 (2)]"], "\(steps)")
        #expect(Set(steps).count == steps.count)
        let diff = try JSONValue.parse(try await Self.sonde(["diff", "--json"], in: folder).stdout)
        #expect((diff["diffs"]?[0]?["requests"]?.arrayValue ?? []).allSatisfy { $0["kind"] == "compared" }, "\(diff)")
    }

    /// A full run is compared with the last full run, not with a partial one in between; the
    /// listing marks the partial run.
    @Test func aFullRunIsComparedWithTheLastFullRun() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.write(
            """
            name: parts
            base_url: "{{ base }}"
            vars: { path: echo/b }
            requests:
              - name: a
                url: /echo/a
              - name: b
                url: /{{ path }}
            """, to: "p.yaml", in: folder)
        let base = ["--var", "base=\(server.baseURL)"]
        #expect(try await Self.sonde(["run", "p.yaml"] + base, in: folder).status == 0)
        #expect(try await Self.sonde(["run", "p.yaml", "--request", "a"] + base, in: folder).status == 0)
        #expect(try await Self.sonde(["run", "p.yaml", "--var", "path=status/200"] + base, in: folder).status == 0)
        let diff = try await Self.sonde(["diff"], in: folder)
        #expect(diff.stdout.contains("run #1 (") && diff.stdout.contains("→ run #3 ("), "\(diff.stdout)")
        #expect(diff.stdout.contains("JSON shape changed"), "\(diff.stdout)")
        let history = try await Self.sonde(["history"], in: folder)
        #expect(history.stdout.split(separator: "\n").contains { $0.hasPrefix("#2 ") && $0.hasSuffix("part: --request a") }, "\(history.stdout)")
        // A teardown that reads what a left-out request captures is skipped, and pulls nothing in.
        try Self.write(
            """
            name: cleanup
            base_url: "{{ base }}"
            requests:
              - name: create
                method: POST
                url: /echo/things
                json: { id: t-1 }
                capture: { id: $.json.id }
                tags: [slow]
              - name: read
                url: /echo/read
            teardown:
              - name: delete
                method: DELETE
                url: /echo/things/{{ id }}
            """, to: "t.yaml", in: folder)
        #expect(try await Self.sonde(["run", "t.yaml"] + base, in: folder).status == 0)
        let partial = try await Self.sonde(["run", "t.yaml", "--skip-tag", "slow", "--compare"] + base, in: folder)
        // Skipped because the selection left out what it needs: not a change for the worse.
        #expect(partial.status == 0, "\(partial.stdout)")
        #expect(!partial.stdout.contains("✓ create"), "\(partial.stdout)")
        #expect(partial.stdout.contains("skipped: needs 'id', captured by request 'create', which this run's selection (--request, --tag) left out"), "\(partial.stdout)")
    }
}

extension PlanStepsTests {
    /// `with:` that reads a capture of a request that failed (though it took a value) skips
    /// the include's steps, as a request that reads it would be; a loop's variable is bound
    /// only during the loop.
    @Test func withOfAFailedCaptureSkipsAndLoopVariablesEnd() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.write(
            """
            name: failing
            base_url: "{{ base }}"
            vars: { item: from-vars }
            requests:
              - name: fails
                url: /status/500
                capture: { v: $.status }
              - include: inc/echo.yaml
                with: { value: "{{ v }}" }
              - name: uses the export
                url: /echo/{{ echoed }}
              - name: loop
                for_each: [one, two]
                url: /echo/loop/{{ item }}
              - name: after the loop
                url: /echo/after/{{ item }}
                expect: { jsonpath: { $.path: /echo/after/from-vars } }
            """, to: "c.yaml", in: folder)
        try Self.write(
            """
            name: echo
            exports: [echoed]
            requests:
              - name: send
                method: POST
                url: /echo/sent
                json: { value: "{{ value }}" }
                capture: { echoed: $.json.value }
            """, to: "inc/echo.yaml", in: folder)
        let run = try await Self.sonde(["run", "c.yaml", "--var", "base=\(server.baseURL)"], in: folder)
        #expect(run.status == 1)
        #expect(run.stdout.contains("- echo/send  POST /echo/sent\n      skipped: needs 'v', captured by request 'fails', which did not pass"), "\(run.stdout)")
        #expect(run.stdout.contains("- uses the export"), "\(run.stdout)")
        #expect(run.stdout.contains("✓ after the loop  GET"), "\(run.stdout)")
    }
}
