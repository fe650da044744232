import Foundation
import SondeCore

extension Runner {
    /// The request as it goes on the wire: templates rendered, base URL, query, auth and body applied.
    func render(_ request: RequestSpec) throws -> HTTPRequest {
        var url = try request.url.render(in: scope)
        if !url.contains("://"), let base = spec.baseURL {
            let prefix = try base.render(in: scope)
            url = prefix.hasSuffix("/") && url.hasPrefix("/") ? prefix + url.dropFirst() : prefix + url
        }
        if !request.query.isEmpty {
            url += (url.contains("?") ? "&" : "?") + PercentEncoding.pairs(try rendered(request.query))
        }
        var headers = try rendered(request.headers)
        func setHeader(_ name: String, _ value: String, override: Bool) {
            if let i = headers.firstIndex(where: { $0.name.equalsIgnoringASCIICase(name) }) {
                if override { headers[i].value = value }
            } else {
                headers.append((name, value))
            }
        }

        if let auth = request.auth {
            switch auth {
            case .bearer(let token):
                setHeader("Authorization", "Bearer " + (try token.render(in: scope)), override: true)
            case .basic(let username, let password):
                let credentials = Data("\(try username.render(in: scope)):\(try password.render(in: scope))".utf8).base64EncodedString()
                redactor.add(credentials)
                setHeader("Authorization", "Basic " + credentials, override: true)
            case .oauth2ClientCredentials(let tokenURL, let clientID, let clientSecret, let scopeTemplate):
                let token = try oauthToken(
                    url: try tokenURL.render(in: scope), clientID: try clientID.render(in: scope),
                    clientSecret: try clientSecret.render(in: scope), scope: try scopeTemplate?.render(in: scope))
                setHeader("Authorization", "Bearer " + token, override: true)
            }
        }

        var body: [UInt8]?
        switch request.body {
        case .none: break
        case .json(let value):
            body = Array(try value.render(in: scope).jsonText.utf8)
            setHeader("Content-Type", "application/json", override: false)
        case .form(let fields):
            body = Array(PercentEncoding.pairs(try rendered(fields)).utf8)
            setHeader("Content-Type", "application/x-www-form-urlencoded", override: false)
        case .raw(let template):
            body = Array(try template.render(in: scope).utf8)
        case .multipart(let parts):
            let boundary = "sonde-" + UUID().uuidString
            body = try multipart(parts, boundary: boundary)
            setHeader("Content-Type", "multipart/form-data; boundary=\(boundary)", override: true)
        }
        return HTTPRequest(
            method: request.method, url: url, headers: headers, body: body, timeoutSeconds: request.timeout?.seconds,
            followRedirects: request.followRedirects, insecure: request.insecure)
    }

    /// Names with their templates rendered, in order (headers, query, form fields).
    func rendered(_ items: [NamedTemplate]) throws -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        out.reserveCapacity(items.count)
        for item in items { out.append((item.name, try item.value.render(in: scope))) }
        return out
    }

    func multipart(_ parts: [MultipartPart], boundary: String) throws -> [UInt8] {
        var out: [UInt8] = []
        let folder = URL(fileURLWithPath: spec.file).deletingLastPathComponent()
        for part in parts {
            out += Array("--\(boundary)\r\n".utf8)
            let value = try part.value.render(in: scope)
            let contentType = try part.contentType?.render(in: scope)
            if part.isFile {
                let url = value.hasPrefix("/") ? URL(fileURLWithPath: value) : folder.appendingPathComponent(value)
                guard let data = FileManager.default.contents(atPath: url.path) else {
                    throw RunnerError("multipart file '\(value)' cannot be read (\(url.path))")
                }
                let filename = part.filename ?? url.lastPathComponent
                out += Array("Content-Disposition: form-data; name=\"\(part.name)\"; filename=\"\(filename)\"\r\n".utf8)
                out += Array("Content-Type: \(contentType ?? "application/octet-stream")\r\n\r\n".utf8)
                out += Array(data)
            } else {
                out += Array("Content-Disposition: form-data; name=\"\(part.name)\"\r\n".utf8)
                if let contentType { out += Array("Content-Type: \(contentType)\r\n".utf8) }
                out += Array("\r\n\(value)".utf8)
            }
            out += Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    /// OAuth 2 client credentials (RFC 6749 section 4.4): fetched once per run and token URL, then reused.
    func oauthToken(url: String, clientID: String, clientSecret: String, scope requestedScope: String?) throws -> String {
        let key = "\(url) \(clientID) \(requestedScope ?? "")"
        if let token = oauthTokens[key] { return token }
        redactor.add(clientSecret)
        var fields = [(name: "grant_type", value: "client_credentials"), ("client_id", clientID), ("client_secret", clientSecret)]
        if let requestedScope { fields.append(("scope", requestedScope)) }
        let form = PercentEncoding.pairs(fields)
        let response = try transport.send(HTTPRequest(
            method: "POST", url: url, headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: Array(form.utf8), timeoutSeconds: 30))
        guard response.status == 200, let json = try? JSONValue.parse(response.body), let token = json["access_token"]?.stringValue else {
            throw RunnerError("oauth2 token request to \(url) failed: HTTP \(response.status)")
        }
        redactor.add(token)
        oauthTokens[key] = token
        return token
    }
}

struct RunnerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

