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
        arguments.append(quoted(request.url))
        var sawCookie = false
        for header in request.headers {
            if header.name.equalsIgnoringASCIICase("Cookie"), let cookie {
                if !sawCookie { arguments += ["-H", quoted("Cookie: \(cookie)")] }
                sawCookie = true
                continue
            }
            // `Name;` is curl's way to send a field with an empty value.
            arguments += ["-H", quoted(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")]
        }
        if !sawCookie, let cookie { arguments += ["-H", quoted("Cookie: \(cookie)")] }
        var note: String?
        switch request.body {
        case nil: break
        case .bytes(let bytes):
            if bytes.count > bodyLimit {
                arguments += ["--data-binary", "@BODY"]
                note = "the body, \(bytes.count) bytes, is not shown: put it in the file BODY"
            } else {
                arguments += ["--data-binary", quoted(bytes)]
            }
            // curl adds a Content-Type of its own for --data-binary; Sonde sends none unless asked.
            if !request.hasHeader("Content-Type") { arguments += ["-H", quoted("Content-Type:")] }
        case .multipart(let fields):
            for field in fields {
                var form: String
                switch field.content {
                case .bytes(let bytes):
                    // `-F name=value` would read `@` and `<` at the start of a value: --form-string does not.
                    form = "\(field.name)=\(String(decoding: bytes, as: UTF8.self))"
                    if field.filename == nil && field.contentType == nil {
                        arguments += ["--form-string", quoted(form)]
                        continue
                    }
                case .file(let path):
                    form = "\(field.name)=@\"\(path)\""
                }
                if let type = field.contentType { form += ";type=\(type)" }
                if let filename = field.filename { form += ";filename=\"\(filename)\"" }
                arguments += ["-F", quoted(form)]
            }
        }
        arguments.append("--compressed")
        if followRedirects {
            arguments += ["-L", "--max-redirs", String(maxRedirects)]
            if locationTrusted { arguments.append("--location-trusted") }
        }
        if let timeout = request.timeoutSeconds { arguments += ["--max-time", String(timeout)] }
        if request.insecure { arguments.append("--insecure") }
        arguments += extraArguments.map(quoted)
        let line = arguments.joined(separator: " ")
        return note.map { "\(line)  # \($0)" } ?? line
    }

    /// A shell word that is `text` exactly.
    public static func quoted(_ text: String) -> String { quoted(Array(text.utf8)) }

    static func quoted(_ bytes: [UInt8]) -> String {
        if !bytes.isEmpty, bytes.allSatisfy({ plain.contains($0) }) { return String(decoding: bytes, as: UTF8.self) }
        let text = String(validating: bytes, as: UTF8.self)
        if let text, !text.unicodeScalars.contains(where: needsEscape) {
            return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        }
        // bash's ANSI-C quoting: every byte that is not plain printable ASCII as \xHH.
        var out = "$'"
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): out += #"\\"#
            case UInt8(ascii: "'"): out += #"\'"#
            case UInt8(ascii: "\n"): out += #"\n"#
            case UInt8(ascii: "\t"): out += #"\t"#
            case UInt8(ascii: "\r"): out += #"\r"#
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out + "'"
    }

    /// What a terminal would act on: C0, DEL, C1, and the bidirectional overrides and isolates.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F..<0xA0, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// Characters that need no quoting in a POSIX shell word.
    private static let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:=@%+,".utf8)
}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
