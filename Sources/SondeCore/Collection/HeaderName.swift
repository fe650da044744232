extension String {
    /// Equal ignoring ASCII case, as HTTP header names compare (RFC 9110); no Foundation, no locale.
    public func equalsIgnoringASCIICase(_ other: String) -> Bool {
        let a = utf8
        let b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lowerX = x >= 65 && x <= 90 ? x + 32 : x
            let lowerY = y >= 65 && y <= 90 ? y + 32 : y
            if lowerX != lowerY { return false }
        }
        return true
    }
}

/// What HTTP's grammar allows in a name or a cookie, for the loader and the runner alike.
public enum HTTPSyntax {
    /// A token (RFC 9110 §5.6.2): a field name, a method, a cookie name (RFC 6265 §4.1.1).
    public static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    public static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// A cookie's value (RFC 6265 §4.1.1 cookie-octets, and UTF-8 beyond ASCII, which servers
    /// accept): no control, blank, `"`, `,`, `;` or `\`.
    public static func isCookieValue(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: "\\") }
    }
}
