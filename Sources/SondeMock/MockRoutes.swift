import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SondeCore

/// The mock's handlers: plain functions of a request, answering JSON.
enum MockRoutes {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(text: value.jsonText, status: status, headers: headers)
    }

    static func json(text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func unauthorized(_ message: String) -> Response {
        json(["kind": "Status", "apiVersion": "v1", "status": "Failure", "message": .string(message), "reason": "Unauthorized", "code": 401], status: .unauthorized)
    }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst("Bearer ".count))
    }

    static func body(_ request: inout Request) async throws -> [UInt8] {
        let buffer = try await request.collectBody(upTo: 16 * 1024 * 1024)
        return Array(buffer.readableBytesView)
    }

    static func query(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map { String($0).removingPercentEncoding ?? String($0) }
    }

    static func router(state: MockState) -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(CountingMiddleware(state: state))

        router.post("/kapis/iam.kubesphere.io/v1alpha2/login") { request, _ -> Response in
            var request = request
            let bytes = try await body(&request)
            let configuration = state.current
            guard let credentials = try? JSONValue.parse(bytes),
                credentials["username"]?.stringValue == configuration.username,
                credentials["password"]?.stringValue == configuration.password
            else {
                return json(["code": 401, "message": "incorrect username or password"], status: .unauthorized)
            }
            return json(["access_token": .string(state.issueToken()), "token_type": "Bearer", "refresh_token": .string(UUID().uuidString), "expires_in": 7200])
        }

        router.get("/api/v1/componentstatuses") { request, _ -> Response in
            guard let token = bearer(request) else { return unauthorized("Unauthorized") }
            guard state.isValid(token: token) else { return unauthorized("token not found in cache") }
            let configuration = state.current
            if configuration.componentsDelayMilliseconds > 0 { try await Task.sleep(for: .milliseconds(configuration.componentsDelayMilliseconds)) }
            return json(text: ComponentStatuses.json(components: configuration.components, unhealthy: configuration.unhealthy))
        }

        // One component, as Kubernetes answers `GET /api/v1/componentstatuses/{name}`.
        router.get("/api/v1/componentstatuses/{name}") { request, context -> Response in
            guard let token = bearer(request) else { return unauthorized("Unauthorized") }
            guard state.isValid(token: token) else { return unauthorized("token not found in cache") }
            let name = context.parameters.get("name") ?? ""
            let configuration = state.current
            let list = try JSONValue.parse(ComponentStatuses.json(components: configuration.components, unhealthy: configuration.unhealthy))
            guard case .array(let items)? = list["items"], let item = items.first(where: { $0["metadata"]?["name"]?.stringValue == name }),
                case .object(let found) = item
            else {
                return json(
                    ["kind": "Status", "apiVersion": "v1", "status": "Failure", "message": .string("componentstatuses \"\(name)\" not found"), "reason": "NotFound", "code": 404],
                    status: .notFound)
            }
            var object = JSONObject([("kind", .string("ComponentStatus")), ("apiVersion", .string("v1"))])
            for member in found.members { object.append(member.key, member.value) }
            return json(.object(object))
        }

        router.get("/slow") { request, _ -> Response in
            let ms = Int(query(request, "ms") ?? "") ?? 500
            try await Task.sleep(nanoseconds: UInt64(ms) * 1_000_000)
            return json(["slept_ms": .int(ms)])
        }

        router.on("/status/{code}", method: .get) { _, context -> Response in
            let code = Int(context.parameters.get("code") ?? "") ?? 500
            return json(["status": .int(code)], status: HTTPResponse.Status(code: code))
        }

        // `/redirect?to=URL&status=302&cookie=name%3Dvalue&ms=`, for every method: a redirect
        // of that status, setting a cookie when asked, after `ms` milliseconds.
        let redirect: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            _ = try await body(&request)
            let target = query(request, "to") ?? "/echo"
            let status = Int(query(request, "status") ?? "") ?? 302
            if let ms = Int(query(request, "ms") ?? "") { try await Task.sleep(for: .milliseconds(ms)) }
            var headers: HTTPFields = [.location: target]
            if let cookie = query(request, "cookie") { headers.append(HTTPField(name: .setCookie, value: cookie + "; Path=/")) }
            return Response(status: HTTPResponse.Status(code: status), headers: headers)
        }
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .head] {
            router.on("/redirect", method: method, use: redirect)
        }

        // `/respond?status=&content_type=&header=Name:%20value&body=TEXT` or `body_base64=`:
        // answers exactly that, for checks on bodies, charsets and headers of any kind.
        router.get("/respond") { request, _ -> Response in
            var headers = HTTPFields()
            if let contentType = query(request, "content_type") { headers[.contentType] = contentType }
            for (name, value) in request.uri.queryParameters where name == "header" {
                let line = String(value).removingPercentEncoding ?? String(value)
                guard let colon = line.firstIndex(of: ":"), let field = HTTPField.Name(String(line[..<colon])) else { continue }
                headers.append(HTTPField(name: field, value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            let bytes: [UInt8]
            if let encoded = query(request, "body_base64") {
                bytes = Data(base64Encoded: encoded).map { Array($0) } ?? []
            } else {
                bytes = Array((query(request, "body") ?? "").utf8)
            }
            let status = Int(query(request, "status") ?? "") ?? 200
            return Response(status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }

        // The configured gzip body, sent as it is with `Content-Encoding: gzip`.
        router.get("/compressed") { _, _ -> Response in
            let body = state.current.gzipBody
            return Response(
                status: .ok, headers: [.contentType: "text/plain", .contentEncoding: "gzip"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }

        router.get("/cookies/set") { request, _ -> Response in
            var headers = HTTPFields()
            for (name, value) in request.uri.queryParameters {
                headers.append(HTTPField(name: .setCookie, value: "\(name)=\(value); Path=/; HttpOnly"))
            }
            return json(["set": .int(request.uri.queryParameters.count)], headers: headers)
        }

        router.get("/cookies") { request, _ -> Response in
            var cookies = JSONObject()
            for header in request.headers[values: .cookie] {
                for pair in header.split(separator: ";") {
                    let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                    if parts.count == 2 { cookies.append(String(parts[0]), .string(String(parts[1]))) }
                }
            }
            return json(["cookies": .object(cookies)])
        }

        router.get("/flaky") { request, _ -> Response in
            let key = query(request, "key") ?? "default"
            let failures = Int(query(request, "failures") ?? "") ?? 2
            let call = state.flakyCall(key: key)
            if call <= failures { return json(["call": .int(call), "ready": false], status: .serviceUnavailable) }
            return json(["call": .int(call), "ready": true])
        }

        let echo: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let bytes = try await body(&request)
            var headers = JSONObject()
            var headerList: [JSONValue] = []
            for field in request.headers {
                headers.append(field.name.rawName, .string(field.value))
                headerList.append([.string(field.name.rawName), .string(field.value)])
            }
            var query = JSONObject()
            for (name, value) in request.uri.queryParameters {
                query.append(String(name), .string(String(value).removingPercentEncoding ?? String(value)))
            }
            let text = String(decoding: bytes, as: UTF8.self)
            var out: JSONObject = JSONObject()
            out.append("method", .string(request.method.rawValue))
            out.append("path", .string(request.uri.path))
            // The request target as it arrived, before any decoding, and its Host (HTTP/1.1) or :authority.
            out.append("target", .string(request.uri.description))
            out.append("authority", request.head.authority.map(JSONValue.string) ?? .null)
            out.append("query", .object(query))
            out.append("headers", .object(headers))
            // Every field in the order it came, names as sent: repeated fields and empty values show.
            out.append("header_list", .array(headerList))
            out.append("raw_query", .string(request.uri.query ?? ""))
            out.append("body", .string(text))
            if let parsed = try? JSONValue.parse(bytes) { out.append("json", parsed) }
            return json(.object(out))
        }
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .head, .options] {
            router.on("/echo", method: method, use: echo)
            router.on("/echo/**", method: method, use: echo)
        }

        // `/hops/N`: a chain of N redirects, each to `/hops/N-1`, ending at `/echo`.
        router.get("/hops/{n}") { _, context -> Response in
            let n = Int(context.parameters.get("n") ?? "") ?? 0
            return Response(status: .found, headers: [.location: n > 1 ? "/hops/\(n - 1)" : "/echo"])
        }

        // `POST /reflect?style=…`: the body it got, written back as servers escape what they
        // echo (see `Reflection`), in a text/plain body: tests of masking.
        router.post("/reflect") { request, _ -> Response in
            var request = request
            let text = String(decoding: try await body(&request), as: UTF8.self)
            let style = query(request, "style") ?? "raw"
            let reflected = Reflection.write(text, style: style)
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "you sent: " + reflected)))
        }

        router.get("/basic") { request, _ -> Response in
            let configuration = state.current
            let expected = "Basic " + Data("\(configuration.username):\(configuration.password)".utf8).base64EncodedString()
            guard request.headers[.authorization] == expected else {
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Basic realm=\"sonde-mock\""])
            }
            return json(["user": .string(configuration.username)])
        }

        router.get("/digest") { request, _ -> Response in
            MockAuth.digest(request, username: state.current.username, password: state.current.password)
        }

        router.get("/ntlm") { request, _ -> Response in
            MockAuth.ntlm(request, username: state.current.username)
        }

        router.post("/oauth/token") { request, _ -> Response in
            var request = request
            let form = String(decoding: try await body(&request), as: UTF8.self)
            var fields: [String: String] = [:]
            for pair in form.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
            var clientID = fields["client_id"], clientSecret = fields["client_secret"]
            if let header = request.headers[.authorization], header.hasPrefix("Basic "),
                let decoded = Data(base64Encoded: String(header.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }),
                let colon = decoded.firstIndex(of: ":")
            {
                clientID = String(decoded[..<colon])
                clientSecret = String(decoded[decoded.index(after: colon)...])
            }
            guard fields["grant_type"] == "client_credentials", clientID == "sonde", clientSecret == "s3cret" else {
                return json(["error": "invalid_client"], status: .unauthorized)
            }
            return json(["access_token": .string(state.issueOAuthToken()), "token_type": "bearer", "expires_in": 3600, "scope": .string(fields["scope"] ?? "")])
        }

        router.get("/oauth/protected") { request, _ -> Response in
            guard let token = bearer(request), token.hasPrefix("oauth-"), state.isValid(token: String(token.dropFirst(6))) else {
                return unauthorized("a client-credentials token is required")
            }
            return json(["ok": true])
        }

        router.get("/mock/stats") { _, _ -> Response in
            json(["requests": .int(state.totalRequests), "oauth_token_requests": .int(state.oauthTokenRequestCount)])
        }
        return router
    }
}

struct CountingMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let state: MockState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        state.requestStarted()
        defer { state.requestEnded() }
        return try await next(request, context)
    }
}
