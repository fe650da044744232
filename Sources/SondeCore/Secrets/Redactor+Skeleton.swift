import Foundation

/// The last search of `Redactor.redact`: a secret that a server wrote back changed in ways no
/// escape undoes. It trimmed the spaces around it, changed its case (a scheme, a header
/// value upper-cased), doubled its quotes (CSV's `""`, SQL's `''`), decomposed its accents
/// (NFD), or put line breaks in or took them out (a PEM key on one line). Each text is
/// compared as its skeleton: its letters and digits only, lower-cased, without accents.
/// Only secrets with at least `minimumSkeleton` letters and digits are searched so, and the
/// letters and digits of a match may stand at most `maximumGap` bytes apart, plus twice the
/// widest gap between two of them in the secret itself (a server that doubles its quotes).
extension Redactor {
    struct Skeleton: Sendable {
        let bytes: [UInt8]
        let maximumGap: Int
    }

    /// The most UTF-8 bytes between two letters or digits of the secret.
    static func widestGap(in scalars: [Unicode.Scalar]) -> Int {
        var widest = 0, gap = 0, started = false
        for scalar in scalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                if started { widest = max(widest, gap) }
                started = true
                gap = 0
            } else {
                gap += String(scalar).utf8.count
            }
        }
        return widest
    }

    /// Letters and digits a secret's skeleton needs to be searched for.
    public static let minimumSkeleton = 8
    /// Bytes that may stand between two letters or digits of a secret in the text.
    static let maximumGap = 16

    /// A secret's skeleton, as `skeletonMatches` compares it.
    public static func skeleton(of scalars: [Unicode.Scalar]) -> [UInt8] {
        var out: [UInt8] = []
        var folds: [UInt32: [UInt8]] = [:]
        for scalar in scalars { appendFolded(scalar, to: &out, cache: &folds) }
        return out
    }

    /// Appends the skeleton bytes of one character: an ASCII letter lower-cased, a digit, and
    /// for other characters their canonical decomposition without marks, lower-cased.
    @inline(__always)
    static func appendFolded(_ scalar: Unicode.Scalar, to out: inout [UInt8], cache: inout [UInt32: [UInt8]]) {
        let value = scalar.value
        if value < 0x80 {
            let byte = lowercasedASCII(UInt8(value))
            if isFoldedAlphanumeric(byte) { out.append(byte) }
            return
        }
        if let folded = cache[value] {
            out.append(contentsOf: folded)
            return
        }
        var folded: [UInt8] = []
        // Full case folding (`ß` and `SS` alike), then the canonical decomposition without marks.
        for part in String(scalar).folding(options: [.caseInsensitive, .widthInsensitive], locale: nil).decomposedStringWithCanonicalMapping.lowercased().unicodeScalars {
            let properties = part.properties
            guard properties.isAlphabetic || properties.numericType != nil else { continue }
            switch properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: continue
            default: UTF8.encode(part) { folded.append($0) }
            }
        }
        cache[value] = folded
        out.append(contentsOf: folded)
    }

    /// Where a strong secret's skeleton stands in the text's, as ranges of the original bytes.
    /// One pass over the text; at each letter or digit that can start a skeleton, the text is
    /// folded forward only as far as it goes on matching, so most text costs a table lookup.
    func skeletonMatches(in bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        guard !skeletons.isEmpty else { return [] }
        var found: [Range<Int>] = []
        var folds: [UInt32: [UInt8]] = [:]
        var p = 0
        var pending: [UInt8] = []
        while p < bytes.count {
            let lead = bytes[p]
            if lead < 0x80 {
                let folded = Self.lowercasedASCII(lead)
                if skeletonLeads[Int(folded)], Self.isFoldedAlphanumeric(folded), secondMayMatch(in: bytes, after: p, first: folded),
                    let end = skeletonMatch(in: bytes, at: p, first: folded, folds: &folds)
                {
                    found.append(p..<end)
                }
                p += 1
                continue
            }
            // A character beyond ASCII: its folded form may start a skeleton (`É` for `e`).
            let next = Self.nextCharacter(after: p, in: bytes)
            pending.removeAll(keepingCapacity: true)
            if let scalar = Self.scalar(in: bytes, from: p, to: next) { Self.appendFolded(scalar, to: &pending, cache: &folds) }
            if let first = pending.first, skeletonLeads[Int(first)], let end = skeletonMatch(in: bytes, at: p, first: first, folds: &folds) {
                found.append(p..<end)
            }
            p = next
        }
        return found
    }

    /// Whether the next letter or digit after `p` can be the second of a skeleton that starts
    /// with `first`: the cheap test that spares most letters of a text the full match.
    @inline(__always)
    private func secondMayMatch(in bytes: UnsafeBufferPointer<UInt8>, after p: Int, first: UInt8) -> Bool {
        var q = p + 1
        while q < bytes.count {
            let byte = bytes[q]
            if byte >= 0x80 { return true }
            let folded = Self.lowercasedASCII(byte)
            if Self.isFoldedAlphanumeric(folded) {
                for skeleton in skeletons where skeleton.bytes[0] == first && skeleton.bytes[1] == folded { return true }
                return false
            }
            q += 1
            if q - p > widestSkeletonGap { return false }
        }
        return false
    }

    @inline(__always)
    static func lowercasedASCII(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
    }

    @inline(__always)
    static func isFoldedAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A)
    }

    static func nextCharacter(after p: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let lead = bytes[p]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return min(bytes.count, p + length)
    }

    static func scalar(in bytes: UnsafeBufferPointer<UInt8>, from p: Int, to end: Int) -> Unicode.Scalar? {
        if bytes[p] < 0x80 { return Unicode.Scalar(bytes[p]) }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[p..<end]), as: UTF8.self).unicodeScalars.first
    }

    /// The end of the longest skeleton that matches from the character at `start` (whose
    /// first folded byte is `first`), its letters and digits within each one's gap.
    private func skeletonMatch(in bytes: UnsafeBufferPointer<UInt8>, at start: Int, first: UInt8, folds: inout [UInt32: [UInt8]]) -> Int? {
        var folded: [UInt8] = []
        var characterEnds: [Int] = []  // for each folded byte, where its character ends
        var gaps: [Int] = []  // for each folded byte, the bytes skipped before its character
        var p = start
        var skipped = 0
        let longest = skeletons[0].bytes.count
        let widest = widestSkeletonGap
        var best: Int?
        func extend() -> Bool {
            while p < bytes.count, folded.count < longest {
                let next = Self.nextCharacter(after: p, in: bytes)
                let before = folded.count
                if bytes[p] < 0x80 {
                    let byte = Self.lowercasedASCII(bytes[p])
                    if Self.isFoldedAlphanumeric(byte) { folded.append(byte) }
                } else if let scalar = Self.scalar(in: bytes, from: p, to: next) {
                    Self.appendFolded(scalar, to: &folded, cache: &folds)
                }
                if folded.count > before {
                    for k in before..<folded.count {
                        characterEnds.append(next)
                        gaps.append(k == before ? skipped : 0)
                    }
                    skipped = 0
                    p = next
                    return true
                }
                skipped += next - p
                p = next
                if skipped > widest { return false }
            }
            return false
        }
        guard extend(), folded[0] == first else { return nil }
        for skeleton in skeletons where skeleton.bytes[0] == first {
            let target = skeleton.bytes
            var k = 0
            while k < target.count {
                while folded.count <= k { if !extend() { break } }
                guard k < folded.count, folded[k] == target[k], k == 0 || gaps[k] <= skeleton.maximumGap else { break }
                k += 1
            }
            if k == target.count {
                best = max(best ?? 0, characterEnds[k - 1])
                break
            }
        }
        return best
    }
}
