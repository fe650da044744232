#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SondeCore

/// A response body as text, decoded with the charset its Content-Type names (RFC 9110
/// §8.3.2), as browsers decode it (the WHATWG Encoding standard): its labels name the
/// encodings (`iso-8859-1` and `us-ascii` are windows-1252, `gb2312` is GBK, which is
/// decoded as gb18030, `shift_jis` is windows-31j, `utf-16` is UTF-16LE), a byte order mark
/// decides before the label, and no charset means UTF-8. The code points come from the
/// platform's iconv. A byte sequence the encoding does not allow becomes one U+FFFD.
enum TextDecoding {
    struct UnknownCharset: Error, Equatable {
        let charset: String
        var message: String {
            "the body's charset \(JSONValue.quoted(charset)) (Content-Type) is not an encoding this system can decode (see the WHATWG Encoding standard's labels)"
        }
    }

    /// The encodings of the WHATWG Encoding standard, as iconv names them.
    enum Encoding: Equatable {
        case utf8
        case iconv(String, singleByte: Bool)
        /// 0x00–0x7F as ASCII, 0x80–0xFF as U+F780–U+F7FF.
        case userDefined
        /// Labels of encodings browsers refuse to decode (ISO-2022-KR, HZ): one U+FFFD.
        case replacement

        static func single(_ name: String) -> Encoding { .iconv(name, singleByte: true) }
        static func multi(_ name: String) -> Encoding { .iconv(name, singleByte: false) }
    }

    /// Every label of the WHATWG Encoding standard (§4.2), by encoding.
    static let labels: [String: Encoding] = {
        var table: [String: Encoding] = [:]
        func add(_ encoding: Encoding, _ names: [String]) { for name in names { table[name] = encoding } }
        add(.utf8, ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"])
        add(.single("CP866"), ["866", "cp866", "csibm866", "ibm866"])
        add(.single("ISO-8859-2"), ["csisolatin2", "iso-8859-2", "iso-ir-101", "iso8859-2", "iso88592", "iso_8859-2", "iso_8859-2:1987", "l2", "latin2"])
        add(.single("ISO-8859-3"), ["csisolatin3", "iso-8859-3", "iso-ir-109", "iso8859-3", "iso88593", "iso_8859-3", "iso_8859-3:1988", "l3", "latin3"])
        add(.single("ISO-8859-4"), ["csisolatin4", "iso-8859-4", "iso-ir-110", "iso8859-4", "iso88594", "iso_8859-4", "iso_8859-4:1988", "l4", "latin4"])
        add(.single("ISO-8859-5"), ["csisolatincyrillic", "cyrillic", "iso-8859-5", "iso-ir-144", "iso8859-5", "iso88595", "iso_8859-5", "iso_8859-5:1988"])
        add(.single("ISO-8859-6"), [
            "arabic", "asmo-708", "csiso88596e", "csiso88596i", "csisolatinarabic", "ecma-114", "iso-8859-6", "iso-8859-6-e", "iso-8859-6-i",
            "iso-ir-127", "iso8859-6", "iso88596", "iso_8859-6", "iso_8859-6:1987",
        ])
        add(.single("ISO-8859-7"), [
            "csisolatingreek", "ecma-118", "elot_928", "greek", "greek8", "iso-8859-7", "iso-ir-126", "iso8859-7", "iso88597", "iso_8859-7",
            "iso_8859-7:1987", "sun_eu_greek",
        ])
        add(.single("ISO-8859-8"), [
            "csiso88598e", "csisolatinhebrew", "hebrew", "iso-8859-8", "iso-8859-8-e", "iso-ir-138", "iso8859-8", "iso88598", "iso_8859-8",
            "iso_8859-8:1988", "visual", "csiso88598i", "iso-8859-8-i", "logical",
        ])
        add(.single("ISO-8859-10"), ["csisolatin6", "iso-8859-10", "iso-ir-157", "iso8859-10", "iso885910", "l6", "latin6"])
        add(.single("ISO-8859-13"), ["iso-8859-13", "iso8859-13", "iso885913"])
        add(.single("ISO-8859-14"), ["iso-8859-14", "iso8859-14", "iso885914"])
        add(.single("ISO-8859-15"), ["csisolatin9", "iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15", "l9"])
        add(.single("ISO-8859-16"), ["iso-8859-16"])
        add(.single("KOI8-R"), ["cskoi8r", "koi", "koi8", "koi8-r", "koi8_r"])
        add(.single("KOI8-U"), ["koi8-ru", "koi8-u"])
        add(.single("MACINTOSH"), ["csmacintosh", "mac", "macintosh", "x-mac-roman"])
        add(.single("CP874"), ["dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620", "windows-874"])
        add(.single("CP1250"), ["cp1250", "windows-1250", "x-cp1250"])
        add(.single("CP1251"), ["cp1251", "windows-1251", "x-cp1251"])
        add(.single("CP1252"), [
            "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591",
            "iso_8859-1", "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252", "x-cp1252",
        ])
        add(.single("CP1253"), ["cp1253", "windows-1253", "x-cp1253"])
        add(.single("CP1254"), [
            "cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9", "iso88599", "iso_8859-9", "iso_8859-9:1989", "l5", "latin5",
            "windows-1254", "x-cp1254",
        ])
        add(.single("CP1255"), ["cp1255", "windows-1255", "x-cp1255"])
        add(.single("CP1256"), ["cp1256", "windows-1256", "x-cp1256"])
        add(.single("CP1257"), ["cp1257", "windows-1257", "x-cp1257"])
        add(.single("CP1258"), ["cp1258", "windows-1258", "x-cp1258"])
        add(.single("MAC-CYRILLIC"), ["x-mac-cyrillic", "x-mac-ukrainian"])
        add(.multi("GB18030"), ["chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80", "gbk", "iso-ir-58", "x-gbk", "gb18030"])
        add(.multi("BIG5-HKSCS"), ["big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"])
        add(.multi("EUC-JP"), ["cseucpkdfmtjapanese", "euc-jp", "x-euc-jp"])
        add(.multi("ISO-2022-JP"), ["csiso2022jp", "iso-2022-jp"])
        add(.multi("CP932"), ["csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis", "windows-31j", "x-sjis"])
        add(.multi("CP949"), [
            "cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949",
        ])
        add(.replacement, ["csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr", "replacement"])
        add(.multi("UTF-16BE"), ["unicodefffe", "utf-16be"])
        add(.multi("UTF-16LE"), ["csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16", "utf-16le"])
        add(.userDefined, ["x-user-defined"])
        return table
    }()

    /// The encoding a label names (ASCII whitespace around it and case ignored); nil for an unknown label.
    static func encoding(forLabel label: String) -> Encoding? {
        labels[label.trimmingASCIIWhitespace().lowercased()]
    }

    /// A Content-Type's media type as written: before its first `;`, without the blanks
    /// around it (RFC 9110 §8.3.1); compared lowercased, as types are case-insensitive.
    static func mediaType(of contentType: String) -> String {
        let end = contentType.utf8.firstIndex(of: UInt8(ascii: ";")) ?? contentType.endIndex
        return String(contentType[..<end]).trimmingASCIIWhitespace()
    }

    /// The `charset` parameter of the last Content-Type (RFC 9110 §8.3.1: a parameter value
    /// may be a quoted string, in which `;` is text), unquoted; nil when absent.
    static func charset(ofContentTypes values: [String]) -> String? {
        guard let contentType = values.last else { return nil }
        for (name, value) in parameters(of: contentType) where name.equalsIgnoringASCIICase("charset") {
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// A media type's parameters, `;`-separated `name=value` pairs after the type.
    static func parameters(of mediaType: String) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        var scalars = Substring(mediaType).unicodeScalars[...]
        // Skip the type and subtype.
        while let c = scalars.first, c != ";" { scalars = scalars.dropFirst() }
        while !scalars.isEmpty {
            scalars = scalars.dropFirst()  // the ';'
            while let c = scalars.first, c == " " || c == "\t" { scalars = scalars.dropFirst() }
            var name = ""
            while let c = scalars.first, c != "=", c != ";" {
                name.unicodeScalars.append(c)
                scalars = scalars.dropFirst()
            }
            guard scalars.first == "=" else { continue }
            scalars = scalars.dropFirst()
            var value = ""
            if scalars.first == "\"" {
                scalars = scalars.dropFirst()
                while let c = scalars.first, c != "\"" {
                    scalars = scalars.dropFirst()
                    if c == "\\", let escaped = scalars.first {
                        value.unicodeScalars.append(escaped)
                        scalars = scalars.dropFirst()
                    } else {
                        value.unicodeScalars.append(c)
                    }
                }
                while let c = scalars.first, c != ";" { scalars = scalars.dropFirst() }
            } else {
                while let c = scalars.first, c != ";" {
                    value.unicodeScalars.append(c)
                    scalars = scalars.dropFirst()
                }
                value = value.trimmingASCIIWhitespace()
            }
            out.append((name.trimmingASCIIWhitespace(), value))
        }
        return out
    }

    /// The body as text under `label` (nil: UTF-8). Throws `UnknownCharset` for a label the
    /// standard does not have.
    static func decode(_ bytes: [UInt8], charset label: String?) throws(UnknownCharset) -> String {
        // A byte order mark wins over the label.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return String(decoding: bytes.dropFirst(3), as: UTF8.self) }
        if bytes.starts(with: [0xFF, 0xFE]) { return iconv(Array(bytes.dropFirst(2)), from: "UTF-16LE", unit: 2, singleByte: false) }
        if bytes.starts(with: [0xFE, 0xFF]) { return iconv(Array(bytes.dropFirst(2)), from: "UTF-16BE", unit: 2, singleByte: false) }
        guard let label else { return String(decoding: bytes, as: UTF8.self) }
        guard let encoding = encoding(forLabel: label) else { throw UnknownCharset(charset: label) }
        switch encoding {
        case .utf8: return String(decoding: bytes, as: UTF8.self)
        case .replacement: return bytes.isEmpty ? "" : "\u{FFFD}"
        case .userDefined:
            var out = String.UnicodeScalarView()
            for byte in bytes { out.append(Unicode.Scalar(byte < 0x80 ? UInt32(byte) : 0xF780 + UInt32(byte - 0x80)) ?? "\u{FFFD}") }
            return String(out)
        case .iconv(let name, let singleByte):
            return iconv(bytes, from: name, unit: name.hasPrefix("UTF-16") ? 2 : 1, singleByte: singleByte)
        }
    }

    /// The body as UTF-8 bytes, for the JSON parser: the same decoding, with a UTF-8 byte
    /// order mark dropped (RFC 8259 §8.1 lets a parser ignore it) and UTF-8 left untouched.
    static func utf8Bytes(_ bytes: [UInt8], charset label: String?) throws(UnknownCharset) -> [UInt8] {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return Array(bytes.dropFirst(3)) }
        let sniffed = bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF])
        if !sniffed {
            guard let label else { return bytes }
            if encoding(forLabel: label) == .utf8 { return bytes }
        }
        return Array(try decode(bytes, charset: label).utf8)
    }

    /// Converts with iconv; a sequence it refuses becomes U+FFFD and decoding goes on after
    /// one code unit (`unit` bytes). In a single-byte encoding, a byte the table leaves
    /// undefined in 0x80–0x9F is the C1 control of that number, as the WHATWG indexes say.
    private static func iconv(_ bytes: [UInt8], from name: String, unit: Int, singleByte: Bool) -> String {
        let converter = iconv_open("UTF-8", name)
        guard let converter, converter != iconv_t(bitPattern: -1) else { return String(decoding: bytes, as: UTF8.self) }
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
                    let skip = min(unit, inLeft)
                    if singleByte, let byte = inPointer.map({ UInt8(bitPattern: $0.pointee) }), (0x80...0x9F).contains(byte) {
                        output.append(contentsOf: [0xC2, byte])  // U+0080–U+009F in UTF-8
                    } else {
                        output.append(contentsOf: [0xEF, 0xBF, 0xBD])
                    }
                    inPointer = inPointer.map { $0 + skip }
                    inLeft -= skip
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
