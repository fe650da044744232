/// The spellings of true and false that `skip:`, `| bool` and a boolean variable set from
/// text accept: `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`, in any case.
public enum Booleans {
    public static func parse(text: String) -> Bool? {
        switch text.trimmingASCIIWhitespace().lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }

    /// A JSON boolean, the number 1 or 0, or a string spelled as above.
    public static func parse(_ value: JSONValue) -> Bool? {
        switch value {
        case .bool(let b): return b
        case .number(let n): return n == JSONNumber(1) ? true : n == JSONNumber(0) ? false : nil
        case .string(let s): return parse(text: s)
        default: return nil
        }
    }
}

extension String {
    /// The text without spaces, tabs, CR and LF at either end.
    public func trimmingASCIIWhitespace() -> String {
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, isSpace(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, isSpace(last) { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
