/// A check on a body's raw bytes (`expect: { bytes: … }`), against bytes the collection
/// gives (a file, base64 or hex, read when the collection is loaded).
///
/// Messages show the expected bytes in hex, and of the body only its length and the first
/// byte that differs: a body may hold a secret, and its hex would not be masked.
public indirect enum BytesPredicate: Sendable, Hashable {
    case all([BytesPredicate])
    case equals([UInt8])
    case notEquals([UInt8])
    case startsWith([UInt8])
    case endsWith([UInt8])
    case contains([UInt8])
    case notContains([UInt8])
    /// The number of bytes.
    case length(ValuePredicate)
    case empty(Bool)

    /// Every template the predicate reads (in a `length` check).
    public var templates: [Template] {
        switch self {
        case .all(let parts): return parts.flatMap(\.templates)
        case .length(let p): return p.templates
        default: return []
        }
    }

    public func evaluate(_ bytes: [UInt8], in context: some TemplateContext) throws(TemplateError) -> PredicateOutcome {
        switch self {
        case .all(let parts):
            for part in parts {
                let outcome = try part.evaluate(bytes, in: context)
                if !outcome.passed { return outcome }
            }
            return .pass
        case .equals(let expected):
            guard bytes != expected else { return .pass }
            let common = min(bytes.count, expected.count)
            let first = (0..<common).first { bytes[$0] != expected[$0] }
            var message = "expected \(Self.describe(expected)), got \(Self.count(bytes.count))"
            if let first {
                message += "; they differ first at byte \(first) (expected \(Self.hex(expected[first])), got \(Self.hex(bytes[first])))"
            } else {
                message += bytes.count < expected.count ? "; the body is the start of the expected bytes" : "; the expected bytes are the start of the body"
            }
            return .fail(message)
        case .notEquals(let expected):
            return bytes == expected ? .fail("expected other bytes than \(Self.describe(expected))") : .pass
        case .startsWith(let prefix):
            return bytes.starts(with: prefix) ? .pass : .fail("expected the body (\(Self.count(bytes.count))) to start with \(Self.describe(prefix))")
        case .endsWith(let suffix):
            return bytes.reversed().starts(with: suffix.reversed()) ? .pass
                : .fail("expected the body (\(Self.count(bytes.count))) to end with \(Self.describe(suffix))")
        case .contains(let part), .notContains(let part):
            let found = Self.firstIndex(of: part, in: bytes)
            if case .contains = self {
                return found != nil ? .pass : .fail("expected the body (\(Self.count(bytes.count))) to contain \(Self.describe(part))")
            }
            return found.map { .fail("expected the body not to contain \(Self.describe(part)), found at byte \($0)") } ?? .pass
        case .length(let inner):
            let outcome = try inner.evaluate(.value(.int(bytes.count)), in: context)
            return outcome.passed ? .pass : .fail("length \(bytes.count): \(outcome.message ?? "failed")")
        case .empty(let expected):
            return bytes.isEmpty == expected ? .pass : .fail(expected ? "expected no bytes, got \(Self.count(bytes.count))" : "expected some bytes, got none")
        }
    }

    /// What was expected, for reports.
    public func describeExpected(in context: some TemplateContext) throws(TemplateError) -> String {
        switch self {
        case .all(let parts):
            var texts: [String] = []
            for part in parts { texts.append(try part.describeExpected(in: context)) }
            return texts.joined(separator: " and ")
        case .equals(let b): return Self.describe(b)
        case .notEquals(let b): return "not \(Self.describe(b))"
        case .startsWith(let b): return "starts with \(Self.describe(b))"
        case .endsWith(let b): return "ends with \(Self.describe(b))"
        case .contains(let b): return "contains \(Self.describe(b))"
        case .notContains(let b): return "does not contain \(Self.describe(b))"
        case .length(let p): return "length \(try p.describeExpected(in: context))"
        case .empty(let b): return b ? "no bytes" : "some bytes"
        }
    }

    /// `5 bytes 0x48656c6c6f`, the hex cut after 16 bytes.
    static func describe(_ bytes: [UInt8]) -> String {
        let shown = bytes.prefix(16).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        return "\(count(bytes.count))" + (bytes.isEmpty ? "" : " 0x\(shown)\(bytes.count > 16 ? "…" : "")")
    }

    static func count(_ n: Int) -> String { n == 1 ? "1 byte" : "\(n) bytes" }

    static func hex(_ byte: UInt8) -> String { "0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16) }

    static func firstIndex(of part: [UInt8], in bytes: [UInt8]) -> Int? {
        if part.isEmpty { return 0 }
        guard part.count <= bytes.count else { return nil }
        for start in 0...(bytes.count - part.count) where bytes[start] == part[0] {
            if bytes[start..<start + part.count].elementsEqual(part) { return start }
        }
        return nil
    }

    /// Bytes written as hex digits (`48656c6c6f`, any case; blanks, `:` and a leading `0x`
    /// ignored); otherwise the offset (in scalars) of the first character that is not one.
    public static func bytes(fromHex text: String) -> Result<[UInt8], BadHexDigit> {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        var offset = 0
        var utf8 = Substring(text).utf8
        if utf8.starts(with: "0x".utf8) || utf8.starts(with: "0X".utf8) {
            utf8 = utf8.dropFirst(2)
            offset = 2
        }
        var scalarOffset = offset
        for byte in utf8 {
            // Count scalars, not bytes: a continuation byte of UTF-8 starts none.
            defer { if byte & 0xC0 != 0x80 { scalarOffset += 1 } }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = byte - UInt8(ascii: "A") + 10
            case UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"): continue
            default: return .failure(BadHexDigit(offset: scalarOffset))
            }
            if let h = high {
                out.append(h << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        guard high == nil else { return .failure(BadHexDigit(offset: text.unicodeScalars.count)) }
        return .success(out)
    }
}

/// Where hex text stops being hex (or, at its end, has an odd number of digits).
public struct BadHexDigit: Error, Sendable {
    public var offset: Int
}
