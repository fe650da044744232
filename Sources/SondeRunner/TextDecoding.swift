#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SondeCore

/// A response body as text, decoded with the charset its Content-Type names (RFC 9110
/// §8.3.2), through the platform's iconv.
///
/// As the WHATWG Encoding standard does: a byte order mark decides first (and is dropped);
/// labels that browsers read as another encoding are read so (`iso-8859-1` and `us-ascii` as
/// windows-1252, `gb2312` as GBK, `shift_jis` as windows-31j, `utf-16` as UTF-16LE); no
/// charset means UTF-8. A byte sequence the charset does not allow becomes U+FFFD.
enum TextDecoding {
    struct UnknownCharset: Error, Equatable {
        let charset: String
        var message: String { "the body's charset \(JSONValue.quoted(charset)) (Content-Type) is not one this system can decode" }
    }

    /// The `charset` parameter of a media type (`text/html; charset="ISO-8859-1"`), unquoted; nil when absent.
    static func charset(ofContentType contentType: String?) -> String? {
        guard let contentType else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            guard let equals = parameter.firstIndex(of: "=") else { continue }
            let name = parameter[..<equals].trimmingCharacters(in: .whitespaces)
            guard name.equalsIgnoringASCIICase("charset") else { continue }
            var value = parameter[parameter.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// The iconv name for a charset label, or nil for UTF-8 (decoded without iconv).
    static func iconvName(_ label: String) -> String? {
        switch label.lowercased() {
        case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8": return nil
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1", "cp819", "ibm819", "us-ascii", "ascii", "iso-ir-100", "windows-1252",
            "cp1252", "x-cp1252":
            return "WINDOWS-1252"
        case "gb2312", "gbk", "x-gbk", "chinese", "csgb2312", "csiso58gb231280", "iso-ir-58", "gb_2312", "gb_2312-80", "cp936", "ms936":
            return "GBK"
        case "shift_jis", "shift-jis", "sjis", "ms_kanji", "x-sjis", "windows-31j", "csshiftjis", "ms932", "cp932":
            return "CP932"
        case "utf-16", "utf-16le", "unicodefeff", "ucs-2", "csunicode", "iso-10646-ucs-2": return "UTF-16LE"
        case "utf-16be", "unicodefffe": return "UTF-16BE"
        default: return label
        }
    }

    /// The body as text under `label` (nil: UTF-8). Throws `UnknownCharset` when iconv does not know the label.
    static func decode(_ bytes: [UInt8], charset label: String?) throws(UnknownCharset) -> String {
        // A byte order mark wins over the label.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return String(decoding: bytes.dropFirst(3), as: UTF8.self) }
        if bytes.starts(with: [0xFF, 0xFE]) { return try iconv(Array(bytes.dropFirst(2)), from: "UTF-16LE", label: "UTF-16LE") }
        if bytes.starts(with: [0xFE, 0xFF]) { return try iconv(Array(bytes.dropFirst(2)), from: "UTF-16BE", label: "UTF-16BE") }
        guard let label, let name = iconvName(label) else { return String(decoding: bytes, as: UTF8.self) }
        return try iconv(bytes, from: name, label: label)
    }

    /// The body as UTF-8 bytes, for the JSON parser: the same decoding, with a UTF-8 byte
    /// order mark dropped (RFC 8259 §8.1 lets a parser ignore it) and UTF-8 left untouched.
    static func utf8Bytes(_ bytes: [UInt8], charset label: String?) throws(UnknownCharset) -> [UInt8] {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return Array(bytes.dropFirst(3)) }
        let sniffed = bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF])
        if !sniffed, label.flatMap(iconvName) == nil { return bytes }
        return Array(try decode(bytes, charset: label).utf8)
    }

    private static func iconv(_ bytes: [UInt8], from name: String, label: String) throws(UnknownCharset) -> String {
        let converter = iconv_open("UTF-8", name)
        guard let converter, converter != iconv_t(bitPattern: -1) else { throw UnknownCharset(charset: label) }
        defer { iconv_close(converter) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count * 2)
        var input = bytes
        input.withUnsafeMutableBufferPointer { inputBuffer in
            var inPointer = UnsafeMutableRawPointer(inputBuffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
            var inLeft = inputBuffer.count
            var chunk = [UInt8](repeating: 0, count: 16_384)
            while inLeft > 0 {
                let (converted, stop) = chunk.withUnsafeMutableBufferPointer { chunkBuffer -> (Int, Int32) in
                    var outPointer = UnsafeMutableRawPointer(chunkBuffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
                    var outLeft = chunkBuffer.count
                    let result = Glibc.iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                    return (chunkBuffer.count - outLeft, result == -1 ? errno : 0)
                }
                output.append(contentsOf: chunk[..<converted])
                switch stop {
                case 0, E2BIG:
                    continue
                case EILSEQ:
                    // A sequence the charset does not allow: U+FFFD, and on from the next byte.
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    inPointer = inPointer.map { $0 + 1 }
                    inLeft -= 1
                default:
                    // EINVAL: the body ends in the middle of a character.
                    output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    inLeft = 0
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
