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
        let hasBody = request.body != nil
        if request.method == "HEAD" {
            arguments.append("--head")
        } else if request.method != (hasBody ? "POST" : "GET") {
            arguments += ["-X", request.method]
        }
        arguments.append(ShellWord.quoted(request.url))
        var sawCookie = false
        for header in request.headers {
            if header.name.equalsIgnoringASCIICase("Cookie"), let cookie {
                if !sawCookie { arguments += ["-H", ShellWord.quoted("Cookie: \(cookie)")] }
                sawCookie = true
                continue
            }
            // `Name;` is curl's way to send a field with an empty value.
            arguments += ["-H", ShellWord.quoted(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")]
        }
        if !sawCookie, let cookie { arguments += ["-H", ShellWord.quoted("Cookie: \(cookie)")] }
        var note: String?
        switch request.body {
        case nil: break
        case .bytes(let bytes):
            if bytes.count > bodyLimit {
                arguments += ["--data-binary", "@BODY"]
                note = "the body, \(bytes.count) bytes, is not shown: put it in the file BODY"
            } else {
                arguments += ["--data-binary", ShellWord.quoted(bytes)]
            }
            // curl adds a Content-Type of its own for --data-binary; Sonde sends none unless asked.
            if !request.hasHeader("Content-Type") { arguments += ["-H", ShellWord.quoted("Content-Type:")] }
        case .multipart(let fields):
            for field in fields {
                var form: String
                switch field.content {
                case .bytes(let bytes):
                    // `-F name=value` would read `@` and `<` at the start of a value: --form-string does not.
                    form = "\(field.name)=\(String(decoding: bytes, as: UTF8.self))"
                    if field.filename == nil && field.contentType == nil {
                        arguments += ["--form-string", ShellWord.quoted(form)]
                        continue
                    }
                case .file(let path):
                    form = "\(field.name)=@\"\(path)\""
                }
                if let type = field.contentType { form += ";type=\(type)" }
                if let filename = field.filename { form += ";filename=\"\(filename)\"" }
                arguments += ["-F", ShellWord.quoted(form)]
            }
        }
        arguments.append("--compressed")
        if followRedirects {
            arguments += ["-L", "--max-redirs", String(maxRedirects)]
            if locationTrusted { arguments.append("--location-trusted") }
        }
        if let timeout = request.timeoutSeconds { arguments += ["--max-time", String(timeout)] }
        if request.insecure { arguments.append("--insecure") }
        arguments += extraArguments.map { ShellWord.quoted($0) }
        let line = arguments.joined(separator: " ")
        return note.map { "\(line)  # \($0)" } ?? line
    }


}
