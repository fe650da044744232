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
