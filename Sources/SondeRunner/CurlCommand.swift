import SondeCore

/// A request as the curl command line that sends it again (`sonde run --curl FILE`, `-v`),
/// so that a failure can be replayed by hand.
///
/// The line is for a POSIX shell: arguments in single quotes, or in bash's `$'…'` when they
/// hold a control character or bytes that are not UTF-8, so that what is printed is what is
/// sent, byte for byte, and nothing in it can reach the terminal unescaped. Redirects are
/// left to curl's `-L` (`--max-redirs`, `--location-trusted` as the request says); libcurl's
/// behaviour there is the one Sonde follows (RFC 9110 §15.4).
public enum CurlCommand {
    /// Bodies longer than this are left out, with a comment saying how long they were.
    public static let bodyLimit = 64 * 1024

    /// - Parameters:
    ///   - request: the first request, as rendered (before any redirect).
    ///   - cookie: the Cookie field the transport sent (the run's cookie jar), if any.
    ///   - extraArguments: the command line's own options (TLS files, proxy), already split.
    public static func line(
        _ request: HTTPRequest, followRedirects: Bool, maxRedirects: Int, locationTrusted: Bool, cookie: String?, extraArguments: [String]
    ) -> String {
        var arguments = ["curl"]
        var notes: [String] = []
        let hasBody = request.body != nil
        // curl's -X holds on every redirect, where Sonde (and curl without -X) turns a 303's
        // next request into a GET: with -X, redirects are left to the reader.
        var customMethod = false
        if request.method == "HEAD" {
            arguments.append("--head")
        } else if request.method != (hasBody ? "POST" : "GET") {
            arguments += ["-X", request.method]
            customMethod = true
        }
        arguments.append(ShellWord.quoted(request.url))
        var sawCookie = false
        for header in request.headers {
            if header.name.equalsIgnoringASCIICase("Cookie"), let cookie {
                if !sawCookie { arguments += ["-H", ShellWord.quoted("Cookie: \(cookie)")] }
                sawCookie = true
                continue
            }
            // `Name;` is curl's way to send a field with an empty value; `Name:` with blanks
            // only would remove the field.
            let blank = header.value.allSatisfy { $0 == " " || $0 == "\t" }
            arguments += ["-H", ShellWord.quoted(blank ? "\(header.name);" : "\(header.name): \(header.value)")]
        }
        if !sawCookie, let cookie { arguments += ["-H", ShellWord.quoted("Cookie: \(cookie)")] }
        switch request.body {
        case nil: break
        case .bytes(let bytes):
            if bytes.count > bodyLimit {
                arguments += ["--data-binary", "@BODY"]
                notes.append("the body, \(bytes.count) bytes, is not shown: put it in the file BODY")
            } else if bytes.contains(0) {
                // No shell word can hold a NUL byte.
                arguments += ["--data-binary", "@BODY"]
                notes.append("the body holds NUL bytes, which no shell argument can: put its \(bytes.count) bytes in the file BODY")
            } else {
                // --data-raw never reads a file, whatever the body starts with (`@`).
                arguments += ["--data-raw", ShellWord.quoted(bytes)]
            }
            // curl adds a Content-Type of its own for --data-raw; Sonde sends none unless asked.
            if !request.hasHeader("Content-Type") { arguments += ["-H", ShellWord.quoted("Content-Type:")] }
        case .multipart(let fields):
            for field in fields {
                // curl reads a part's name up to its first `=`.
                if field.name.contains("=") { notes.append("curl's -F cannot name a part '\(field.name)' (an '=' in it)") }
                var form: String
                switch field.content {
                case .bytes(let bytes):
                    let text = String(decoding: bytes, as: UTF8.self)
                    if field.filename == nil && field.contentType == nil {
                        // Taken as it is: no `@` or `<` read as a file, no `;type=` read.
                        arguments += ["--form-string", ShellWord.quoted("\(field.name)=\(text)")]
                        continue
                    }
                    // In double quotes, curl reads no file and no `;` parameter in the value.
                    form = "\(field.name)=\(formQuoted(text))"
                case .file(let path):
                    form = "\(field.name)=@\(formQuoted(path))"
                }
                if let type = field.contentType { form += ";type=\(type)" }
                if let filename = field.filename { form += ";filename=\(formQuoted(filename))" }
                arguments += ["-F", ShellWord.quoted(form)]
            }
        }
        if followRedirects && customMethod {
            notes.append("curl -X \(request.method) would keep that method on every redirect (Sonde follows a 303 with a GET): follow redirects by hand")
        }
        if request.transfer.compressed { arguments.append("--compressed") }
        if followRedirects && !customMethod {
            arguments += ["-L", "--max-redirs", String(maxRedirects)]
            if locationTrusted { arguments.append("--location-trusted") }
        }
        if let timeout = request.timeoutSeconds { arguments += ["--max-time", String(timeout)] }
        if request.insecure { arguments.append("--insecure") }
        arguments += extraArguments.map { ShellWord.quoted($0) }
        // After the command line's own: curl takes the last of an option, as the request's win.
        arguments += transferArguments(request.transfer).map { ShellWord.quoted($0) }
        // curl's own User-Agent is not Sonde's: the replay sends the same.
        if !request.hasHeader("User-Agent") { arguments += ["-A", ShellWord.quoted(request.transfer.userAgent ?? HTTPRequest.defaultUserAgent)] }
        let line = arguments.joined(separator: " ")
        return notes.isEmpty ? line : line + "  # " + notes.joined(separator: "; ").map { $0.isNewline ? " " : $0 }.reduce(into: "") { $0.append($1) }
    }

    /// curl's options for how the request travels (`HTTPRequest.Transfer`), and for the
    /// authentication libcurl does.
    static func transferArguments(_ transfer: HTTPRequest.Transfer) -> [String] {
        var out: [String] = []
        switch transfer.httpVersion {
        case .http1_0?: out.append("--http1.0")
        case .http1_1?: out.append("--http1.1")
        case .http2?: out.append("--http2")
        case .http2PriorKnowledge?: out.append("--http2-prior-knowledge")
        case .http3?: out.append("--http3")
        case nil: break
        }
        if let seconds = transfer.connectTimeout { out += ["--connect-timeout", String(seconds)] }
        for entry in transfer.connectTo { out += ["--connect-to", entry] }
        for entry in transfer.resolve { out += ["--resolve", entry] }
        switch transfer.ipVersion {
        case .v4?: out.append("-4")
        case .v6?: out.append("-6")
        case nil: break
        }
        if let cacert = transfer.cacert { out += ["--cacert", cacert] }
        if let cert = transfer.cert { out += ["--cert", cert] }
        if let key = transfer.key { out += ["--key", key] }
        if let proxy = transfer.proxy { out += ["--proxy", proxy] }
        if let rate = transfer.limitRate { out += ["--limit-rate", String(rate)] }
        if transfer.pathAsIs { out.append("--path-as-is") }
        if !transfer.seedCookies.isEmpty { out += ["-b", transfer.seedCookies.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")] }
        switch transfer.auth {
        case .digest(let user, let password)?: out += ["--digest", "-u", "\(user):\(password)"]
        case .ntlm(let user, let password)?: out += ["--ntlm", "-u", "\(user):\(password)"]
        case .awsSigV4(let parameter, let id, let secret)?: out += ["--aws-sigv4", parameter, "-u", "\(id):\(secret)"]
        case .netrc(let file, let optional)?:
            out.append(optional ? "--netrc-optional" : "--netrc")
            if let file { out += ["--netrc-file", file] }
        case nil: break
        }
        return out
    }

    /// A value in curl's -F syntax: in double quotes, `"` and `\\` escaped with a backslash.
    static func formQuoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }


}
