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
    /// Texts are searched in windows of this many bytes (overlapping by `windowOverlap`), so
    /// that a large body costs a bounded amount of memory.
    static let window = 1 << 20
    static let windowOverlap = 64 << 10

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
            switch value {
            case 0x30...0x39, 0x61...0x7A: out.append(UInt8(value))
            case 0x41...0x5A: out.append(UInt8(value + 0x20))
            default: break
            }
            return
        }
        if let folded = cache[value] {
            out.append(contentsOf: folded)
            return
        }
        var folded: [UInt8] = []
        for part in String(scalar).decomposedStringWithCanonicalMapping.lowercased().unicodeScalars {
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
    func skeletonMatches(in bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        guard !skeletons.isEmpty else { return [] }
        var found: [Range<Int>] = []
        var folds: [UInt32: [UInt8]] = [:]
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + Self.window)
            skeletonMatches(in: bytes, from: start, to: end, folds: &folds, into: &found)
            if end == bytes.count { break }
            start = end - Self.windowOverlap
            // Windows start on a character.
            while start < end, bytes[start] & 0xC0 == 0x80 { start += 1 }
        }
        return found
    }

    private func skeletonMatches(
        in bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, folds: inout [UInt32: [UInt8]], into found: inout [Range<Int>]
    ) {
        var folded: [UInt8] = []
        // For each skeleton byte, where its character starts and ends in the text.
        var starts: [Int32] = []
        var ends: [Int32] = []
        folded.reserveCapacity(end - start)
        starts.reserveCapacity(end - start)
        ends.reserveCapacity(end - start)
        var p = start
        while p < end {
            let lead = bytes[p]
            if lead < 0x80 {
                switch lead {
                case 0x30...0x39, 0x61...0x7A:
                    folded.append(lead)
                    starts.append(Int32(p))
                    ends.append(Int32(p + 1))
                case 0x41...0x5A:
                    folded.append(lead + 0x20)
                    starts.append(Int32(p))
                    ends.append(Int32(p + 1))
                default: break
                }
                p += 1
                continue
            }
            let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            let next = min(end, p + length)
            guard let scalar = String(decoding: UnsafeBufferPointer(rebasing: bytes[p..<next]), as: UTF8.self).unicodeScalars.first else {
                p = next
                continue
            }
            let before = folded.count
            Self.appendFolded(scalar, to: &folded, cache: &folds)
            for _ in before..<folded.count {
                starts.append(Int32(p))
                ends.append(Int32(next))
            }
            p = next
        }
        guard folded.count >= Self.minimumSkeleton else { return }
        skeletonLeads.withUnsafeBufferPointer { leads in
            folded.withUnsafeBufferPointer { text in
                var i = 0
                while i < text.count {
                    guard leads[Int(text[i])] else {
                        i += 1
                        continue
                    }
                    for skeleton in skeletons where skeleton.bytes[0] == text[i] && i + skeleton.bytes.count <= text.count {
                        let bytes = skeleton.bytes
                        var k = 1
                        while k < bytes.count, text[i + k] == bytes[k], Int(starts[i + k] - ends[i + k - 1]) <= skeleton.maximumGap { k += 1 }
                        if k == bytes.count {
                            found.append(Int(starts[i])..<Int(ends[i + k - 1]))
                            break
                        }
                    }
                    i += 1
                }
            }
        }
    }
}
