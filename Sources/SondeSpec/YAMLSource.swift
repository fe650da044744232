import Foundation
import SondeCore

/// A YAML file's text and tree, with the means to turn a node (or a spot inside a scalar) into a file:line:column.
struct YAMLSource {
    let file: String
    let text: String
    /// Built on the first error that needs a position inside a scalar: a valid file never pays for it.
    private let index: ScalarIndex

    /// The text as scalars, and where each line starts.
    private final class ScalarIndex: @unchecked Sendable {
        let text: String
        init(_ text: String) { self.text = text }

        lazy var scalars: [Unicode.Scalar] = Array(text.unicodeScalars)
        /// Index in `scalars` where each line starts.
        lazy var lineStarts: [Int] = {
            var starts = [0]
            for (i, c) in scalars.enumerated() where c == "\n" { starts.append(i + 1) }
            return starts
        }()
    }

    private var scalars: [Unicode.Scalar] { index.scalars }
    private var lineStarts: [Int] { index.lineStarts }

    init(file: String, text: String) {
        self.file = file
        self.text = Self.normalizingLineBreaks(text)
        index = ScalarIndex(self.text)
    }

    /// The text with each lone CR (an old Mac line break, which YAML reads as one) made an LF,
    /// so that lines are counted as libyaml counts them, for positions and for the lines a
    /// message shows or hides. CR LF stays as it is; a text without a lone CR is returned as is.
    static func normalizingLineBreaks(_ text: String) -> String {
        let bytes = text.utf8
        guard bytes.contains(0x0D) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var previous: UInt8 = 0
        for byte in bytes {
            if previous == 0x0D && byte != 0x0A { out[out.count - 1] = 0x0A }
            out.append(byte)
            previous = byte
        }
        if previous == 0x0D { out[out.count - 1] = 0x0A }
        return String(decoding: out, as: UTF8.self)
    }

    /// The document's root node, or a diagnostic for the YAML syntax error (or for a
    /// document that nests too deep, or whose aliases expand too far).
    /// With a `sink`, the items of the root's `sink.key` sequence go there instead of into the tree.
    func compose(sink: YAMLComposer.ItemSink? = nil) throws(DiagnosticsError) -> Node? {
        do {
            // SondeSpec types scalars itself (YAMLScalarValue, YAML 1.2 core schema).
            return try YAMLComposer.compose(text, sink: sink)
        } catch {
            let location = error.mark.line < 0 ? offsetLocation(error.mark.column) : SourceLocation(file: file, line: error.mark.line, column: error.mark.column)
            throw DiagnosticsError([Diagnostic(error.message, at: location, length: error.length)])
        }
    }

    func location(_ mark: Node.Mark) -> SourceLocation {
        SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    func location(of node: Node) -> SourceLocation {
        node.mark.map(location) ?? SourceLocation(file: file, line: 1, column: 1)
    }

    func offsetLocation(_ offset: Int) -> SourceLocation {
        var line = 0
        while line + 1 < lineStarts.count, lineStarts[line + 1] <= offset { line += 1 }
        return SourceLocation(file: file, line: line + 1, column: offset - lineStarts[line] + 1)
    }

    private func absoluteIndex(_ mark: Node.Mark) -> Int {
        let line = min(max(mark.line - 1, 0), lineStarts.count - 1)
        return lineStarts[line] + mark.column - 1
    }

    /// The location of the `offset`-th character of a scalar's value, found in the raw text.
    ///
    /// Exact for plain and quoted scalars without escapes before the spot; otherwise the
    /// first occurrence of the text at that spot after the scalar's start; else the scalar's start.
    func location(inside node: Node, offset: Int, value: String) -> SourceLocation {
        location(inside: ScalarPosition(node), offset: offset, value: value)
    }

    /// Where a scalar starts and how it is quoted: what `location(inside:offset:value:)` needs
    /// of it, kept for each template until its names are checked (a node would keep its text).
    struct ScalarPosition {
        var mark: Node.Mark?
        /// nil for a node that is not a scalar: a place inside it is its start.
        var style: Node.Scalar.Style?

        init(_ node: Node) {
            mark = node.mark
            if case .scalar(let scalar) = node { style = scalar.style }
        }
    }

    func location(inside position: ScalarPosition, offset: Int, value: String) -> SourceLocation {
        guard let mark = position.mark else { return SourceLocation(file: file, line: 1, column: 1) }
        guard position.style != nil else { return location(mark) }
        let valueScalars = Array(value.unicodeScalars)
        let start = absoluteIndex(mark)
        let quoted = position.style == .singleQuoted || position.style == .doubleQuoted
        if offset >= valueScalars.count, offset > 0 {
            // The end of the value: one column past its last character.
            var end = location(inside: position, offset: valueScalars.count - 1, value: value)
            end.column += 1 + offset - valueScalars.count
            return end
        }
        let needle = Array(valueScalars[min(offset, valueScalars.count)..<min(offset + 8, valueScalars.count)])
        guard !needle.isEmpty else { return location(mark) }
        let exact = start + (quoted ? 1 : 0) + offset
        if matches(needle, at: exact), scalars[start..<min(exact, scalars.count)].firstIndex(of: "\\") == nil {
            return offsetLocation(exact)
        }
        var i = start
        while i + needle.count <= scalars.count {
            if matches(needle, at: i) { return offsetLocation(i) }
            i += 1
        }
        return location(mark)
    }

    private func matches(_ needle: [Unicode.Scalar], at index: Int) -> Bool {
        guard index >= 0, index + needle.count <= scalars.count else { return false }
        for (k, c) in needle.enumerated() where scalars[index + k] != c { return false }
        return true
    }
}

/// A scalar's value under the YAML 1.2 core schema (no `yes`/`no` booleans, no sexagesimal numbers).
enum YAMLScalarValue {
    case null
    case bool(Bool)
    case int(Int64)
    /// Any other number, as written (`1.5`, `1e3`, `.5`, a big integer): kept exactly.
    case decimal(String)
    case double(Double)
    case string(String)
    /// A tag that does not fit its text (`!!int abc`), or one Sonde does not read (`!!binary`).
    case badTag(String, String)

    init(_ scalar: Node.Scalar) {
        let text = scalar.string
        // An explicit tag decides the type, whatever the style (`!!str 5` is a string,
        // `!!int "7"` a number); `!` alone is a string.
        switch scalar.tag.rawValue {
        case "":
            break
        case "!", "tag:yaml.org,2002:str":
            self = .string(text)
            return
        case "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null":
            let tag = String(scalar.tag.rawValue.dropFirst("tag:yaml.org,2002:".count))
            let plain = YAMLScalarValue(Node.Scalar(text, .implicit, .plain))
            switch (tag, plain) {
            case ("int", .int): self = plain
            case ("int", .decimal) where Self.isInteger(text) || Self.radixInteger(text) != nil: self = plain
            case ("float", .int), ("float", .decimal), ("float", .double): self = plain
            case ("bool", .bool), ("null", .null): self = plain
            default: self = .badTag(tag, text)
            }
            return
        default:
            self = .badTag(scalar.tag.rawValue, text)
            return
        }
        guard scalar.style == .plain || scalar.style == .any else {
            self = .string(text)
            return
        }
        // Only text that starts like a number, a null or a boolean can be one: most plain
        // scalars (names, paths, media types) are strings at their first byte.
        if let first = text.utf8.first {
            switch first {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "~"),
                UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
                break
            default:
                self = .string(text)
                return
            }
        }
        switch text {
        case "", "~", "null", "Null", "NULL": self = .null
        case "true", "True", "TRUE": self = .bool(true)
        case "false", "False", "FALSE": self = .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf": self = .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": self = .double(-.infinity)
        case ".nan", ".NaN", ".NAN": self = .double(.nan)
        default:
            if let value = Self.radixInteger(text) {
                self = .int(value)
            } else if Self.isInteger(text) {
                let digits = text.hasPrefix("+") ? String(text.dropFirst()) : text
                self = Int64(digits).map(YAMLScalarValue.int) ?? .decimal(digits)
            } else if Self.isFloat(text) {
                self = .decimal(text)
            } else {
                self = .string(text)
            }
        }
    }

    /// A YAML 1.2 number's text in JSON's grammar: no `+`, no leading zeros, digits on both
    /// sides of a `.` (`+.5` is `0.5`, `007` is `7`, `1.` is `1.0`).
    static func jsonNumberText(_ text: String) -> String {
        var rest = Substring(text)
        var sign = ""
        if rest.hasPrefix("+") { rest = rest.dropFirst() } else if rest.hasPrefix("-") { sign = "-"; rest = rest.dropFirst() }
        var mantissa = rest.prefix { $0 != "e" && $0 != "E" }
        let exponent = rest.dropFirst(mantissa.count)
        var whole = mantissa.prefix { $0 != "." }
        var fraction = mantissa.dropFirst(whole.count)
        while whole.count > 1, whole.first == "0" { whole = whole.dropFirst() }
        if whole.isEmpty { whole = "0" }
        if fraction == "." { fraction = ".0" }
        mantissa = whole + fraction
        var exponentText = ""
        if !exponent.isEmpty {
            var digits = exponent.dropFirst()
            var exponentSign = ""
            if let s = digits.first, s == "+" || s == "-" { exponentSign = s == "-" ? "-" : ""; digits = digits.dropFirst() }
            exponentText = "e" + exponentSign + digits
        }
        return sign + mantissa + exponentText
    }

    /// `0o[0-7]+` and `0x[0-9a-fA-F]+`, the YAML 1.2 core schema's octal and hexadecimal integers.
    static func radixInteger(_ text: String) -> Int64? {
        guard text.utf8.count > 2, text.hasPrefix("0o") || text.hasPrefix("0x") else { return nil }
        let octal = text.hasPrefix("0o")
        // Digits only: `Int64(_:radix:)` would take a sign (`0x+1F`), which the schema does not.
        let digits = text.utf8.dropFirst(2)
        guard digits.allSatisfy({ octal ? (0x30...0x37).contains($0) : ($0 >= 0x30 && $0 <= 0x39) || (0x41...0x46).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        return Int64(text.dropFirst(2), radix: octal ? 8 : 16)
    }

    /// `[-+]?[0-9]+`
    static func isInteger(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        return !bytes.isEmpty && bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the YAML 1.2 core schema's float.
    static func isFloat(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
            return i - start
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
        let whole = digits()
        var fraction = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            fraction = digits()
            if whole == 0 && fraction == 0 { return false }
        } else if whole == 0 {
            return false
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            if digits() == 0 { return false }
        }
        return i == bytes.count
    }

    /// The value as JSON; a big integer keeps its digits.
    var json: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .number(JSONNumber(i))
        case .decimal(let text): return .number(JSONNumber(jsonText: Self.jsonNumberText(text)))
        case .double(let d): return .number(JSONNumber(d))
        case .string(let s), .badTag(_, let s): return .string(s)
        }
    }

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .decimal, .double: return "a number"
        case .string: return "a string"
        case .badTag(let tag, _): return "a value tagged \(tag)"
        }
    }
}

extension Node {
    /// How a value's kind reads in an error message.
    var kindDescription: String {
        switch self {
        case .scalar(let scalar): return YAMLScalarValue(scalar).typeName
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
