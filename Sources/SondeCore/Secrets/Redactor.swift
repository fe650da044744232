import Foundation

/// Replaces every secret value, in every form it travels in, before text leaves the process.
///
/// A server echoes what it got with its own escaping, so a secret is found however each of
/// its characters is written (`docs/collections.md`, "Secrets"):
/// - as itself, or its UTF-8 bytes percent-encoded in either hex case (`%2F`, `%2f`), any
///   mix of raw and encoded bytes, `+` for a space;
/// - JSON escapes: `\uXXXX` for any character in either hex case (surrogate pairs beyond
///   U+FFFF, as Python and Go write them), `\"`, `\\`, `\/` (PHP), `\n`, `\r`, `\t`, `\b`, `\f`,
///   and `\'` (RFC 9535 normalized paths);
/// - HTML character references: `&#NNN;`, `&#xHH;` (in a view, without their `;` too), and
///   HTML's named references (`HTMLEntities`);
/// - in views of the text with one or two levels of escapes undone: quoted-printable, CSS
///   escapes, `%uXXXX`, percent-encoded Latin-1, and the forms above;
/// - base64 runs whose decoded bytes hold a secret;
/// - reshaped (`Redactor+Skeleton.swift`): its letters and digits, whatever the case, accents,
///   quotes or line breaks around them.
///
/// A short secret (fewer than 6 characters) or a plain word (letters only, or digits only)
/// is masked only where it stands whole, between characters that are not letters or digits:
/// masking every `7` or `admin` in all output would give the value away.
public struct Redactor: Sendable {
    public static let mask = "••••••"

    /// A class, so that reaching one from the scan costs one reference count, not four.
    final class Secret: Sendable {
        let scalars: [Unicode.Scalar]
        let wholeWordOnly: Bool
        /// The secret's UTF-8, compared as it is first (most text holds it raw or not at all).
        let utf8: [UInt8]
        /// Whether one of its characters has a form that starts like another of its forms
        /// (`%`, `&`, `\`, `+`, a space): only then can a raw match be beaten by a longer one.
        let hasSpecial: Bool
        /// The bytes a match can start with.
        let firstBytes: [Bool]

        init(scalars: [Unicode.Scalar], wholeWordOnly: Bool, utf8: [UInt8], hasSpecial: Bool, firstBytes: [Bool]) {
            self.scalars = scalars
            self.wholeWordOnly = wholeWordOnly
            self.utf8 = utf8
            self.hasSpecial = hasSpecial
            self.firstBytes = firstBytes
        }
    }

    /// Longest first, so that a secret containing another is masked whole.
    private var secrets: [Secret] = []
    /// For each byte, the secrets (indices into `secrets`, longest first) a match can start
    /// with it: most text holds few such bytes, and is passed over a byte at a time.
    private var byLead = [[Int]](repeating: [], count: 256)
    /// Whether any secret can start with the byte: the scan's only test for most bytes.
    private var leads = [Bool](repeating: false, count: 256)
    /// Whether a secret is masked only where it stands whole (an escape can hide its boundary).
    private var hasWeakSecret = false
    /// Each strong secret's letters and digits, lower-cased and without accents, longest
    /// first (see `skeletonMatches(in:)`).
    private(set) var skeletons: [Skeleton] = []
    private(set) var skeletonLeads = [Bool](repeating: false, count: 256)
    /// Whether a secret holds a control character (see `mayHoldQuotedPrintable`).
    private var hasControlSecret = false
    /// The widest gap any skeleton allows.
    private(set) var widestSkeletonGap = 0
    /// Texts already masked with these secrets: a run masks the same URL, expected value and
    /// verdict for request after request, and a search costs some 100 instructions a byte.
    /// Shared by copies; replaced whenever a secret is added.
    private var memo = Memo()

    /// The masked text of texts of up to `maximumLength` bytes, up to `capacity` of them
    /// (emptied when full): bounded, whatever a run masks.
    final class Memo: @unchecked Sendable {
        static let capacity = 1_024
        static let maximumLength = 4_096
        private let lock = NSLock()
        private var masked: [ExactString: String] = [:]

        func text(for text: String) -> String? {
            lock.lock()
            defer { lock.unlock() }
            return masked[ExactString(text)]
        }

        func store(_ result: String, for text: String) {
            lock.lock()
            defer { lock.unlock() }
            if masked.count >= Self.capacity { masked.removeAll(keepingCapacity: true) }
            masked[ExactString(text)] = result
        }
    }

    public init(_ secrets: [String] = []) {
        for secret in secrets { add(secret) }
    }

    /// Whether a leaf of a structured secret is masked: a string or a number that is not
    /// short nor a plain word (`isWeak`), nor `true`, `false` or `null` as text.
    public static func masksAsLeaf(_ leaf: JSONValue) -> Bool {
        switch leaf {
        case .string(let text): !unmaskable.contains(text) && !isWeak(text)
        case .number(let number): !isWeak(number.jsonText)
        default: false
        }
    }

    /// Texts that are never masked (see `add(_:)`).
    public static let unmaskable: Set<String> = ["true", "false", "null"]

    /// Whether a secret's value is short or a plain word, and so masked only where it stands whole.
    public static func isWeak(_ secret: String) -> Bool {
        let scalars = secret.unicodeScalars
        return scalars.count < 6 || scalars.allSatisfy { $0.properties.isAlphabetic } || scalars.allSatisfy { ("0"..."9").contains($0) }
    }

    /// Adds a value to mask wherever it appears, in any of the forms above, and its base64
    /// (standard and URL-safe, with and without padding), as servers echo credentials.
    public mutating func add(_ secret: String) {
        memo = Memo()
        let scalars = Array(secret.unicodeScalars)
        // `true`, `false` and `null` as text stand in every JSON document: never masked, as
        // the booleans and null are not (the loader warns).
        guard !Self.unmaskable.contains(secret) else { return }
        guard !scalars.isEmpty, !secrets.contains(where: { $0.scalars == scalars }) else { return }
        let weak = Self.isWeak(secret)
        insert(scalars, wholeWordOnly: weak)
        // A quoted value (a cookie as Django quotes it) is a secret without its quotes too.
        if scalars.count >= 3, scalars.first == "\"", scalars.last == "\"" { add(String(String.UnicodeScalarView(scalars.dropFirst().dropLast()))) }
        // Non-ASCII text whose UTF-8 a server read as Latin-1 (as WSGI, Node and httpbin read
        // header bytes) and wrote back: `Schlüssel` as `SchlÃ¼ssel`.
        if !secret.utf8.allSatisfy({ $0 < 0x80 }) {
            let mojibake = secret.utf8.map { Unicode.Scalar($0) }
            if !secrets.contains(where: { $0.scalars == mojibake }) { insert(mojibake, wholeWordOnly: weak) }
        }
        guard !weak else { return }
        let folded = Self.skeleton(of: scalars)
        if folded.count >= Self.minimumSkeleton, !skeletons.contains(where: { $0.bytes == folded }) {
            skeletons.append(Skeleton(bytes: folded, maximumGap: Self.maximumGap + 2 * Self.widestGap(in: scalars)))
            skeletons.sort { $0.bytes.count > $1.bytes.count }
            skeletonLeads = [Bool](repeating: false, count: 256)
            for skeleton in skeletons { skeletonLeads[Int(skeleton.bytes[0])] = true }
            widestSkeletonGap = skeletons.map(\.maximumGap).max() ?? 0
        }
        let base64 = Data(secret.utf8).base64EncodedString()
        let unpadded = String(base64.prefix { $0 != "=" })
        let urlSafe = unpadded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        for form in [base64, unpadded, urlSafe] where !secrets.contains(where: { $0.scalars.elementsEqual(form.unicodeScalars) }) {
            insert(Array(form.unicodeScalars), wholeWordOnly: false)
        }
    }

    private mutating func insert(_ scalars: [Unicode.Scalar], wholeWordOnly: Bool) {
        var utf8: [UInt8] = []
        for scalar in scalars { UTF8.encode(scalar) { utf8.append($0) } }
        var firstBytes = [Bool](repeating: false, count: 256)
        firstBytes[Int(utf8[0])] = true
        for byte in "%\\&".utf8 { firstBytes[Int(byte)] = true }
        if scalars[0] == " " { firstBytes[Int(UInt8(ascii: "+"))] = true }
        // A `+` a server read as a space (form decoding), a line break written CR LF.
        if scalars[0] == "+" { firstBytes[Int(UInt8(ascii: " "))] = true }
        if scalars[0] == "\n" { firstBytes[0x0D] = true }
        let hasSpecial = utf8.contains { Self.isSpecial($0) || $0 == UInt8(ascii: " ") || $0 == 0x0A }
        secrets.append(Secret(scalars: scalars, wholeWordOnly: wholeWordOnly, utf8: utf8, hasSpecial: hasSpecial, firstBytes: firstBytes))
        hasWeakSecret = hasWeakSecret || wholeWordOnly
        hasControlSecret = hasControlSecret || scalars.contains { $0.value < 0x20 }
        secrets.sort { $0.scalars.count > $1.scalars.count }
        byLead = [[Int]](repeating: [], count: 256)
        for (index, secret) in secrets.enumerated() {
            for byte in 0..<256 where secret.firstBytes[byte] { byLead[byte].append(index) }
        }
        leads = byLead.map { !$0.isEmpty }
    }

    /// The bytes that start an encoded form of a character.
    static func isSpecial(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "%") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "+")
    }

    /// Adds a secret value: a string or a number's text; for a list or an object, each leaf
    /// that is not short or a plain word (`Bearer`, `3600`, `1` stand in too many places to be
    /// masked wherever they stand, and masking them would give them away: see
    /// `VariableScope.weakLeaves(of:)`, whose paths the run names in a warning).
    public mutating func add(leavesOf value: JSONValue) {
        switch value {
        case .string(let s): add(s)
        case .number(let n): add(n.jsonText)
        case .array, .object:
            var leaves: [JSONValue] = [value]
            while let leaf = leaves.popLast() {
                switch leaf {
                case .array(let items): leaves += items
                case .object(let object): leaves += object.members.map(\.value)
                case .string(let s) where Self.masksAsLeaf(leaf): add(s)
                case .number(let n) where Self.masksAsLeaf(leaf): add(n.jsonText)
                default: break
                }
            }
        case .bool, .null: break
        }
    }

    public var isEmpty: Bool { secrets.isEmpty }

    /// How many forms of secrets it looks for: grows with every secret added.
    public var count: Int { secrets.count }

    /// The most UTF-8 bytes any secret can take in the text (12 a character, as `%F0%9F%91%8D`
    /// or a surrogate pair): text cut after `limit + longest` bytes still shows every secret
    /// that starts before `limit` whole, to be masked.
    public var longest: Int { (secrets.first?.scalars.count ?? 0) * 12 }

    /// The text with every secret, in any of its forms, replaced by `mask`.
    ///
    /// Three searches, whose finds are masked together:
    /// - the text as it is, each character of a secret in any of its forms;
    /// - the text with one level of escapes undone, then two, when an escape stands for a
    ///   character that starts another (`\\\"`, `%2525`, `&amp;quot;`: a JSON document
    ///   echoed inside a JSON string, a query encoded twice), and for short secrets, whose
    ///   word boundaries an escape hides (`%20admin`);
    /// - runs of base64 (16 characters or more) whose decoded bytes hold a secret, masked
    ///   whole (a request body echoed base64-encoded, as AWS Lambda passes it).
    public func redact(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        let remembered = text.utf8.count <= Memo.maximumLength
        if remembered, let masked = memo.text(for: text) { return masked }
        let masked = maskingCutSecret(search(text))
        if remembered { memo.store(masked, for: text) }
        return masked
    }

    /// A text cut short (`cut(_:limit:)` ends it with `…`) before a secret became known may
    /// end with that secret's first characters, which a search for the whole secret misses:
    /// four or more of them just before a `…` are masked too (a verdict cut short may stand
    /// inside a longer text: a report, a terminal's lines gathered for a pipe).
    private func maskingCutSecret(_ text: String) -> String {
        // Most text was never cut: it is not copied.
        guard text.firstRange(ofExactly: "…") != nil else { return text }
        let ellipsis = Array("…".utf8)
        let bytes = Array(text.utf8)
        var cuts: [Range<Int>] = []
        var i = 0
        while i + ellipsis.count <= bytes.count {
            defer { i += 1 }
            guard bytes[i] == ellipsis[0], bytes[i + 1] == ellipsis[1], bytes[i + 2] == ellipsis[2] else { continue }
            var longest = 0
            for secret in secrets where !secret.wholeWordOnly {
                var count = min(secret.utf8.count - 1, i)
                while count >= 4 && count > longest {
                    if bytes[(i - count)..<i].elementsEqual(secret.utf8.prefix(count)) {
                        longest = count
                        break
                    }
                    count -= 1
                }
            }
            if longest > 0 { cuts.append((i - longest)..<i) }
        }
        guard !cuts.isEmpty else { return text }
        return bytes.withUnsafeBufferPointer { String(decoding: Self.masking(cuts, in: $0), as: UTF8.self) }
    }

    /// `redact(_:)` without the memo.
    private func search(_ text: String) -> String {
        var copy = text
        let masked = copy.withUTF8 { bytes -> [UInt8]? in
            var ranges = matches(in: bytes)
            ranges += decodedMatches(in: bytes)
            ranges += base64Matches(in: bytes, skipping: ranges)
            ranges += skeletonMatches(in: bytes)
            guard !ranges.isEmpty else { return nil }
            return Self.masking(ranges, in: bytes)
        }
        return masked.map { String(decoding: $0, as: UTF8.self) } ?? text
    }

    /// Whether the bytes hold a secret in any of the forms `redact` masks.
    func contains(in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        !matches(in: bytes).isEmpty || !decodedMatches(in: bytes).isEmpty
    }

    /// The bytes with each range (merged where they overlap) replaced by one mask.
    static func masking(_ ranges: [Range<Int>], in bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var copied = 0
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if range.lowerBound < copied {
                copied = max(copied, range.upperBound)
                continue
            }
            out.append(contentsOf: bytes[copied..<range.lowerBound])
            out.append(contentsOf: mask.utf8)
            copied = range.upperBound
        }
        out.append(contentsOf: bytes[copied...])
        return out
    }

    /// Where secrets stand in the bytes as they are, each character in any of its forms.
    /// With `strongOnly`, short or plain-word secrets are passed over (in bytes that are not text).
    func matches(in bytes: UnsafeBufferPointer<UInt8>, strongOnly: Bool = false) -> [Range<Int>] {
        leads.withUnsafeBufferPointer { leads in
            var found: [Range<Int>] = []
            var i = 0
            while i < bytes.count {
                guard leads[Int(bytes[i])], let end = matchAny(at: i, in: bytes, strongOnly: strongOnly) else {
                    i += 1
                    continue
                }
                found.append(i..<end)
                // A longer secret may start inside this one ("zz9-Alpha-Br" and "Alpha-Bravo-…"):
                // the masks of both are merged.
                i += 1
            }
            return found
        }
    }

    /// Where secrets stand once one or two levels of escapes are undone, each level of one
    /// kind (a secret may hold text that looks like an escape of another), as ranges of the
    /// original bytes.
    func decodedMatches(in bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var found: [Range<Int>] = []
        // UTF-16 or UTF-32 text read as UTF-8 (a body without its charset): ASCII characters
        // with NUL bytes between them.
        if let view = DecodedView(droppingNULsOf: bytes) {
            view.bytes.withUnsafeBufferPointer { text in
                for range in matches(in: text) { found.append(view.origin(of: range)) }
            }
        }
        for kind in EscapeKind.allCases {
            // Quoted-printable and CSS escapes are looked for only where the text has one that
            // the other kinds do not read the same way: `=` and two hex digits of a byte beyond
            // ASCII or of `=`, or a soft line break; `\` and a hex digit.
            if kind == .quotedPrintable, !Self.mayHoldQuotedPrintable(bytes, controls: hasControlSecret) { continue }
            if kind == .css, !Self.mayHoldCSSEscape(bytes) { continue }
            guard let view = DecodedView(decoding: bytes, kind: kind, origins: nil) else { continue }
            // Without an escape left to undo, this view shows nothing the direct search
            // missed, except the word boundaries an escape hid.
            guard view.revealsEscapes || view.hasFormsTheScanMisses || hasWeakSecret else { continue }
            view.bytes.withUnsafeBufferPointer { decoded in
                for range in matches(in: decoded) { found.append(view.origin(of: range)) }
                guard view.revealsEscapes else { return }
                for second in EscapeKind.allCases {
                    if second == .quotedPrintable, !Self.mayHoldQuotedPrintable(decoded, controls: hasControlSecret) { continue }
                    if second == .css, !Self.mayHoldCSSEscape(decoded) { continue }
                    guard let deeper = DecodedView(decoding: decoded, kind: second, origins: view.origins) else { continue }
                    deeper.bytes.withUnsafeBufferPointer { twice in
                        for range in matches(in: twice) { found.append(deeper.origin(of: range)) }
                    }
                }
            }
        }
        return found
    }

    /// `controls`: whether a secret holds a control character (a tab, a line break), which
    /// quoted-printable writes `=09`, `=0A`: only then is `=09` (a query's `page=09`) looked at.
    static func mayHoldQuotedPrintable(_ t: UnsafeBufferPointer<UInt8>, controls: Bool) -> Bool {
        var p = 0
        while p + 1 < t.count {
            if t[p] == UInt8(ascii: "=") {
                if t[p + 1] == 0x0A || t[p + 1] == 0x0D { return true }
                if let value = hexValue(t, p + 1, digits: 2), value >= 0x80 || value == 0x3D || (controls && value < 0x20) { return true }
            }
            p += 1
        }
        return false
    }

    static func mayHoldCSSEscape(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        var p = 0
        while p + 1 < t.count {
            if t[p] == UInt8(ascii: "\\"), digitValue(t[p + 1], hex: true) != nil {
                // JSON's \b and \f are escapes of their own, not CSS.
                if t[p + 1] != UInt8(ascii: "b") && t[p + 1] != UInt8(ascii: "f") { return true }
            }
            p += 1
        }
        return false
    }

    /// Runs of base64 whose decoded bytes hold a secret, masked whole. A run may be wrapped
    /// in lines (MIME's 76 columns, PEM's 64: raw line breaks or `\n` escapes between whole
    /// groups of 4), and may start after a `/`, `+`, `-` or `_` that belongs to the text
    /// before it (`/v1/files/eyJ…`). Decoded bytes that are not text (a multipart body with an
    /// image in it) are searched for secrets that are not short.
    /// `skipping`: ranges already masked; a run inside one (a token sent as it is) is not decoded.
    func base64Matches(in bytes: UnsafeBufferPointer<UInt8>, skipping masked: [Range<Int>] = []) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var runs: [[Range<Int>]] = []
        var i = 0
        while i < bytes.count {
            // The letter of an escape (`\n`, `\r`, `\t`) is not base64.
            guard Self.isBase64(bytes[i]), !(i > 0 && bytes[i - 1] == UInt8(ascii: "\\")) else {
                i += 1
                continue
            }
            var end = i
            while end < bytes.count, Self.isBase64(bytes[end]) { end += 1 }
            var padded = end
            while padded < bytes.count, padded - end < 2, bytes[padded] == UInt8(ascii: "=") { padded += 1 }
            // A line of a wrapped run: whole groups, ended by a line break, and the line before also whole.
            if let previous = runs.last?.last, let gap = Self.lineBreak(from: previous.upperBound, in: bytes), gap == i,
                (previous.upperBound - previous.lowerBound) % 4 == 0, previous.upperBound - previous.lowerBound >= 16
            {
                runs[runs.count - 1].append(i..<padded)
            } else if padded - i >= 16 {
                // A run shorter than that is never looked at, nor continued on the next line.
                runs.append([i..<padded])
            }
            i = padded
        }
        for pieces in runs {
            let whole = pieces[0].lowerBound..<pieces[pieces.count - 1].upperBound
            if masked.contains(where: { $0.lowerBound <= whole.lowerBound && whole.upperBound <= $0.upperBound }) { continue }
            var characters: [UInt8] = []
            for piece in pieces { characters += bytes[piece].filter { $0 != UInt8(ascii: "=") } }
            guard characters.count >= 16 else { continue }
            // Where the base64 may start: the run's start, and after a separator within its first line.
            var starts = [0]
            let firstLine = pieces[0].upperBound - pieces[0].lowerBound
            for (offset, byte) in characters.prefix(firstLine).enumerated() where starts.count < 16 {
                if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") {
                    if characters.count - (offset + 1) >= 16 { starts.append(offset + 1) }
                }
            }
            for start in starts {
                guard let decoded = Self.base64Decoded(characters[start...]) else { continue }
                let text = Self.isText(decoded)
                if decoded.withUnsafeBufferPointer({ text ? contains(in: $0) : !matches(in: $0, strongOnly: true).isEmpty }) {
                    // Masked from where the base64 starts: the text before it stays.
                    var skipped = start
                    var from = pieces[0].lowerBound
                    while skipped > 0, from < whole.upperBound {
                        if bytes[from] != UInt8(ascii: "=") { skipped -= 1 }
                        from += 1
                    }
                    found.append(from..<whole.upperBound)
                    break
                }
            }
        }
        return found
    }

    /// Where the text goes on after a line break at `index` (LF, CR LF, or the escapes `\n`, `\r\n`).
    static func lineBreak(from index: Int, in t: UnsafeBufferPointer<UInt8>) -> Int? {
        var p = index
        if p < t.count, t[p] == 0x0D { p += 1 }
        if p < t.count, t[p] == 0x0A { return p + 1 }
        p = index
        if p + 1 < t.count, t[p] == UInt8(ascii: "\\"), t[p + 1] == UInt8(ascii: "r") { p += 2 }
        if p + 1 < t.count, t[p] == UInt8(ascii: "\\"), t[p + 1] == UInt8(ascii: "n") { return p + 2 }
        return nil
    }

    /// Whether decoded bytes are text (UTF-8 without control characters but tab and line
    /// breaks): a hash or a random token read as base64 almost never is, and is left alone.
    static func isText(_ bytes: [UInt8]) -> Bool {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar.value < 0x20, scalar != "\t", scalar != "\n", scalar != "\r" { return false }
                if scalar.value == 0x7F { return false }
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    static func isBase64(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// The bytes of a run of base64 (standard or URL-safe, unpadded), its last partial group dropped.
    static func base64Decoded(_ run: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(run.count * 3 / 4)
        var group: UInt32 = 0
        var count = 0
        for byte in run {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            default: value = 63
            }
            group = group << 6 | value
            count += 1
            if count == 4 {
                out.append(UInt8(group >> 16 & 0xFF))
                out.append(UInt8(group >> 8 & 0xFF))
                out.append(UInt8(group & 0xFF))
                group = 0
                count = 0
            }
        }
        if count == 3 {
            out.append(UInt8(group >> 10 & 0xFF))
            out.append(UInt8(group >> 2 & 0xFF))
        } else if count == 2 {
            out.append(UInt8(group >> 4 & 0xFF))
        }
        return out.isEmpty ? nil : out
    }

    /// The end of the longest secret that matches at `start`, whole where it must be.
    private func matchAny(at start: Int, in bytes: UnsafeBufferPointer<UInt8>, strongOnly: Bool = false) -> Int? {
        for index in byLead[Int(bytes[start])] {
            let secret = secrets[index]
            if strongOnly, secret.wholeWordOnly { continue }
            let found: Int?
            switch Self.rawMatch(secret, at: start, in: bytes) {
            case .matched(let end): found = end
            case .none: found = nil
            case .undecided:
                // The full search, only when the first character can match in some form.
                found = Self.firstCanMatch(secret, at: start, in: bytes) ? Self.match(secret.scalars, at: start, in: bytes) : nil
            }
            guard let end = found else { continue }
            if secret.wholeWordOnly, Self.isWordCharacter(before: start, in: bytes) || Self.isWordCharacter(at: end, in: bytes) { continue }
            return end
        }
        return nil
    }

    enum RawMatch {
        case matched(Int)
        case none
        /// An encoded form may match: the full search decides.
        case undecided
    }

    /// The fast path: the secret's bytes as they are. When they differ at a byte that cannot
    /// start an encoded form, and the secret has no character whose forms overlap, nothing
    /// else can match either.
    static func rawMatch(_ secret: Secret, at start: Int, in t: UnsafeBufferPointer<UInt8>) -> RawMatch {
        if secret.hasSpecial { return .undecided }
        let u = secret.utf8
        var j = 0
        while j < u.count, start + j < t.count, t[start + j] == u[j] { j += 1 }
        if j == u.count { return .matched(start + j) }
        if start + j < t.count, isSpecial(t[start + j]) { return .undecided }
        return .none
    }

    /// Whether the secret's first character can start at `p` in one of its forms, with no
    /// allocation: most places a special byte stands do not begin a secret.
    static func firstCanMatch(_ secret: Secret, at p: Int, in t: UnsafeBufferPointer<UInt8>) -> Bool {
        let byte = t[p]
        if byte == secret.utf8[0] { return true }
        switch byte {
        case UInt8(ascii: "%"): return hexValue(t, p + 1, digits: 2) == UInt32(secret.utf8[0])
        case UInt8(ascii: "\\"): return jsonEscape(of: secret.scalars[0], at: p, in: t) != nil
        case UInt8(ascii: "&"): return characterReference(of: secret.scalars[0], at: p, in: t) != nil
        case UInt8(ascii: "+"): return secret.scalars[0] == " "
        case UInt8(ascii: " "): return secret.scalars[0] == "+"
        case 0x0D: return secret.scalars[0] == "\n"
        default: return false
        }
    }

    /// The end of the longest match of `scalars` at `start`, each character in any of its forms;
    /// every alternative is followed (a set of positions), so none is missed for another.
    static func match(_ scalars: [Unicode.Scalar], at start: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var positions = [start]
        var next: [Int] = []
        for scalar in scalars {
            next.removeAll(keepingCapacity: true)
            for position in positions { ends(of: scalar, at: position, in: bytes, into: &next) }
            if next.isEmpty { return nil }
            if next.count > 1 {
                next.sort()
                var unique: [Int] = []
                for p in next where unique.last != p { unique.append(p) }
                next = unique
            }
            swap(&positions, &next)
        }
        return positions.max()
    }

    /// Every position where one written form of `scalar` starting at `p` ends.
    static func ends(of scalar: Unicode.Scalar, at p: Int, in t: UnsafeBufferPointer<UInt8>, into out: inout [Int]) {
        guard p < t.count else { return }
        // Its UTF-8 bytes, each raw or percent-encoded.
        var positions = [p]
        var utf8: [UInt8] = []
        UTF8.encode(scalar) { utf8.append($0) }
        for byte in utf8 {
            var advanced: [Int] = []
            for q in positions where q < t.count {
                if t[q] == byte { advanced.append(q + 1) }
                if t[q] == UInt8(ascii: "%"), q + 2 < t.count, let value = hexValue(t, q + 1, digits: 2), value == UInt32(byte) { advanced.append(q + 3) }
            }
            positions = advanced
            if positions.isEmpty { break }
        }
        out.append(contentsOf: positions)
        switch t[p] {
        case UInt8(ascii: "+"):
            if scalar == " " { out.append(p + 1) }
        case UInt8(ascii: " "):
            if scalar == "+" { out.append(p + 1) }
        case 0x0D:
            if scalar == "\n", p + 1 < t.count, t[p + 1] == 0x0A { out.append(p + 2) }
        case UInt8(ascii: "\\"):
            if let end = jsonEscape(of: scalar, at: p, in: t) { out.append(end) }
            // A line break written `\r\n`.
            if scalar == "\n", p + 3 < t.count, t[p + 1] == UInt8(ascii: "r"), t[p + 2] == UInt8(ascii: "\\"), t[p + 3] == UInt8(ascii: "n") {
                out.append(p + 4)
            }
        case UInt8(ascii: "&"):
            if let end = characterReference(of: scalar, at: p, in: t) { out.append(end) }
        default:
            break
        }
    }

    /// `\uXXXX` (or a surrogate pair) or a short escape for `scalar` at `p`.
    static func jsonEscape(of scalar: Unicode.Scalar, at p: Int, in t: UnsafeBufferPointer<UInt8>) -> Int? {
        guard p + 1 < t.count else { return nil }
        let short: UInt8? = switch scalar {
        case "\"": UInt8(ascii: "\"")
        case "'": UInt8(ascii: "'")
        case "\\": UInt8(ascii: "\\")
        case "/": UInt8(ascii: "/")
        case "\n": UInt8(ascii: "n")
        case "\r": UInt8(ascii: "r")
        case "\t": UInt8(ascii: "t")
        case "\u{08}": UInt8(ascii: "b")
        case "\u{0C}": UInt8(ascii: "f")
        default: nil
        }
        if let short, t[p + 1] == short { return p + 2 }
        guard t[p + 1] == UInt8(ascii: "u"), p + 5 < t.count, let unit = hexValue(t, p + 2, digits: 4) else { return nil }
        if scalar.value <= 0xFFFF { return unit == scalar.value ? p + 6 : nil }
        let value = scalar.value - 0x10000
        guard unit == 0xD800 + (value >> 10), p + 11 < t.count, t[p + 6] == UInt8(ascii: "\\"), t[p + 7] == UInt8(ascii: "u"),
            let low = hexValue(t, p + 8, digits: 4), low == 0xDC00 + (value & 0x3FF)
        else { return nil }
        return p + 12
    }

    /// `&#NNN;`, `&#xHH;` or a named reference for `scalar` at `p`.
    static func characterReference(of scalar: Unicode.Scalar, at p: Int, in t: UnsafeBufferPointer<UInt8>) -> Int? {
        guard p + 3 < t.count else { return nil }
        if t[p + 1] == UInt8(ascii: "#") {
            let hex = t[p + 2] == UInt8(ascii: "x") || t[p + 2] == UInt8(ascii: "X")
            var q = p + (hex ? 3 : 2)
            var value: UInt32 = 0
            let start = q
            while q < t.count, q - start < 8, let digit = digitValue(t[q], hex: hex) {
                value = value * (hex ? 16 : 10) + digit
                q += 1
            }
            guard q > start, q < t.count, t[q] == UInt8(ascii: ";"), value == scalar.value else { return nil }
            return q + 1
        }
        for name in HTMLEntities.namesByScalar[scalar.value] ?? [] where p + name.count < t.count {
            if name.indices.allSatisfy({ t[p + 1 + $0] == name[$0] }) { return p + 1 + name.count }
        }
        return nil
    }

    static func hexValue(_ t: UnsafeBufferPointer<UInt8>, _ start: Int, digits: Int) -> UInt32? {
        guard start + digits <= t.count else { return nil }
        var value: UInt32 = 0
        for k in 0..<digits {
            guard let digit = digitValue(t[start + k], hex: true) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    static func digitValue(_ byte: UInt8, hex: Bool) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f") where hex: return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F") where hex: return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// Whether the character ending just before `index` is a letter, a digit, or a `.`, `-`
    /// or `_` (which join words and numbers: `10.0.0.1`, `v1.0`, `user-admin`).
    static func isWordCharacter(before index: Int, in t: UnsafeBufferPointer<UInt8>) -> Bool {
        guard index > 0 else { return false }
        if Self.isJoiner(t[index - 1]) { return true }
        var start = index - 1
        while start > 0, t[start] & 0xC0 == 0x80 { start -= 1 }
        return isWordCharacter(at: start, in: t)
    }

    static func isJoiner(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// Whether the character starting at `index` is a letter, a digit, or a joiner (above).
    static func isWordCharacter(at index: Int, in t: UnsafeBufferPointer<UInt8>) -> Bool {
        guard index < t.count else { return false }
        if Self.isJoiner(t[index]) { return true }
        var end = index + 1
        while end < t.count, t[end] & 0xC0 == 0x80 { end += 1 }
        guard let scalar = String(decoding: UnsafeBufferPointer(rebasing: t[index..<end]), as: UTF8.self).unicodeScalars.first else { return false }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    /// The text redacted whole, then cut to `limit` characters: cutting first could split
    /// a secret so that its first part no longer matches, and shows in clear.
    public func excerpt(_ text: String, limit: Int) -> String {
        Self.cut(redact(text), limit: limit)
    }

    /// Text already redacted, cut to `limit` characters.
    public static func cut(_ text: String, limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    /// The value with every string (and member name) redacted: mask before quoting, so that
    /// a secret with `"` or `\` in it is never escaped out of reach.
    public func redact(_ value: JSONValue) -> JSONValue {
        guard !secrets.isEmpty else { return value }
        switch value {
        case .string(let s): return .string(redact(s))
        case .array(let items): return .array(items.map(redact))
        case .object(let o): return .object(JSONObject(o.members.map { (key: redact($0.key), value: redact($0.value)) }))
        case .number(let n):
            let text = n.jsonText
            return redact(text) == text ? value : .string(Self.mask)
        default: return value
        }
    }

    /// A shape with secrets masked in its paths (a token used as a key, say).
    public func redact(_ shape: JSONShape) -> JSONShape {
        guard !secrets.isEmpty else { return shape }
        var types: [String: String] = [:]
        for (path, type) in shape.types { types[redact(path)] = type }
        return JSONShape(types: types)
    }
}

/// The escapes a level of encoding writes.
enum EscapeKind: CaseIterable {
    /// `\"`, `\uXXXX` and the other JSON escapes.
    case json
    /// `%XX`.
    case percent
    /// `&amp;`, `&#NN;`, `&#xHH;`, with or without the `;` of a numeric reference.
    case html
    /// Quoted-printable (RFC 2045 §6.7): `=XX`, and `=` at the end of a line.
    case quotedPrintable
    /// CSS (CSS Syntax §4.3.7): `\` and one to six hex digits with one optional space after
    /// them, or `\` before any other character.
    case css

    var lead: UInt8 {
        switch self {
        case .json, .css: UInt8(ascii: "\\")
        case .percent: UInt8(ascii: "%")
        case .html: UInt8(ascii: "&")
        case .quotedPrintable: UInt8(ascii: "=")
        }
    }
}

/// Text with one level of escapes of one kind undone, and for each of its bytes the range of
/// the original text it was written as: a secret found here is masked there.
struct DecodedView {
    var bytes: [UInt8] = []
    /// For each byte of `bytes`, the original bytes it came from.
    var origins: [Range<Int>] = []
    /// Whether the decoded text holds `\`, `%`, `&` or `+`: an escape may remain, written with
    /// the help of a decoded character.
    var revealsEscapes = false
    /// Whether it undid an escape that the scan of the text as it is cannot read (quoted-
    /// printable, CSS, `%uXXXX`, Latin-1 percent-encoding, a reference without its `;`).
    var hasFormsTheScanMisses = false

    /// Nil when the text holds no escape to undo. `origins` maps `text` itself to the original
    /// (nil when `text` is the original).
    init?(decoding text: UnsafeBufferPointer<UInt8>, kind: EscapeKind, origins parent: [Range<Int>]?) {
        let lead = kind.lead
        guard text.contains(lead) else { return nil }
        bytes.reserveCapacity(text.count)
        origins.reserveCapacity(text.count)
        var decodedAny = false
        var p = 0
        hasFormsTheScanMisses = kind == .quotedPrintable || kind == .css
        while p < text.count {
            if text[p] == lead, let (scalar, end) = Self.escape(at: p, in: text, kind: kind) {
                let origin = parent.map { $0[p].lowerBound..<$0[end - 1].upperBound } ?? p..<end
                if kind == .quotedPrintable, text[p + 1] == 0x0A || text[p + 1] == 0x0D {
                    // A soft line break stands for nothing: the secret goes on after it.
                    decodedAny = true
                    p = end
                    continue
                }
                if (kind == .percent && end - p >= 6) || (kind == .html && text[end - 1] != UInt8(ascii: ";")) { hasFormsTheScanMisses = true }
                if (kind == .percent && end - p == 3) || kind == .quotedPrintable {
                    // A byte, not a character: the bytes of UTF-8 are rebuilt one by one.
                    bytes.append(UInt8(scalar.value))
                    origins.append(origin)
                } else {
                    UTF8.encode(scalar) { byte in
                        bytes.append(byte)
                        origins.append(origin)
                    }
                }
                decodedAny = true
                p = end
            } else {
                bytes.append(text[p])
                origins.append(parent?[p] ?? p..<(p + 1))
                p += 1
            }
        }
        guard decodedAny else { return nil }
        // Bytes that are not UTF-8 were Latin-1 (JavaScript's escape(), old PHP): `%FC` is ü.
        if kind == .percent || kind == .quotedPrintable, repairingLatin1() { hasFormsTheScanMisses = true }
        // A decoded character may start an escape, or end one that a literal `\`, `%` or `&` began.
        revealsEscapes = bytes.contains { Redactor.isSpecial($0) }
    }

    /// Rewrites each byte that is not part of valid UTF-8 as the Latin-1 character of that
    /// value; true when there was one.
    private mutating func repairingLatin1() -> Bool {
        var p = 0
        var repaired: [UInt8]? = nil
        var repairedOrigins: [Range<Int>] = []
        while p < bytes.count {
            let length = Self.validUTF8Length(at: p, in: bytes)
            if length > 0 {
                if repaired != nil {
                    repaired!.append(contentsOf: bytes[p..<(p + length)])
                    repairedOrigins.append(contentsOf: origins[p..<(p + length)])
                }
                p += length
                continue
            }
            if repaired == nil {
                repaired = Array(bytes[..<p])
                repairedOrigins = Array(origins[..<p])
            }
            let byte = bytes[p]
            repaired!.append(0xC0 | byte >> 6)
            repaired!.append(0x80 | byte & 0x3F)
            repairedOrigins.append(origins[p])
            repairedOrigins.append(origins[p])
            p += 1
        }
        guard let repaired else { return false }
        bytes = repaired
        origins = repairedOrigins
        return true
    }

    /// The length of the UTF-8 sequence at `p`, or 0 when the bytes there are not one.
    static func validUTF8Length(at p: Int, in b: [UInt8]) -> Int {
        let lead = b[p]
        if lead < 0x80 { return 1 }
        let length = lead >= 0xF0 && lead < 0xF5 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 && lead < 0xE0 ? 2 : 0
        guard length > 0, p + length <= b.count else { return 0 }
        for k in 1..<length where b[p + k] & 0xC0 != 0x80 { return 0 }
        return length
    }

    /// The text without its NUL bytes; nil when it has none.
    init?(droppingNULsOf text: UnsafeBufferPointer<UInt8>) {
        guard text.contains(0) else { return nil }
        bytes.reserveCapacity(text.count)
        origins.reserveCapacity(text.count)
        for (index, byte) in text.enumerated() where byte != 0 {
            bytes.append(byte)
            origins.append(index..<(index + 1))
        }
    }

    /// The original bytes a range of `bytes` was written as.
    func origin(of range: Range<Int>) -> Range<Int> {
        origins[range.lowerBound].lowerBound..<origins[range.upperBound - 1].upperBound
    }

    /// The character an escape of `kind` at `p` stands for, and where the escape ends. For
    /// `%XX` and `=XX`, a byte's value (the caller appends it as a byte); for a soft line
    /// break of quoted-printable, a line feed (the caller drops it).
    static func escape(at p: Int, in t: UnsafeBufferPointer<UInt8>, kind: EscapeKind) -> (Unicode.Scalar, Int)? {
        guard p + 1 < t.count else { return nil }
        switch kind {
        case .percent:
            if let value = Redactor.hexValue(t, p + 1, digits: 2) { return (Unicode.Scalar(UInt8(value)), p + 3) }
            // %uXXXX, as JavaScript's escape() and IIS write a character.
            return unitEscape(at: p, in: t, lead: UInt8(ascii: "%"))
        case .quotedPrintable:
            if let value = Redactor.hexValue(t, p + 1, digits: 2) { return (Unicode.Scalar(UInt8(value)), p + 3) }
            if t[p + 1] == 0x0A { return ("\n", p + 2) }
            if t[p + 1] == 0x0D, p + 2 < t.count, t[p + 2] == 0x0A { return ("\n", p + 3) }
            return nil
        case .css:
            var q = p + 1
            var value: UInt32 = 0
            while q < t.count, q - p <= 6, let digit = Redactor.digitValue(t[q], hex: true) {
                value = value << 4 | digit
                q += 1
            }
            if q == p + 1 {
                // `\` before a character that is not a hex digit nor a line break: that character.
                guard t[q] >= 0x20, t[q] < 0x80 else { return nil }
                return (Unicode.Scalar(t[q]), q + 1)
            }
            guard let scalar = Unicode.Scalar(value), value != 0 else { return nil }
            if q < t.count, t[q] == 0x20 || t[q] == 0x09 || t[q] == 0x0A || t[q] == 0x0C { q += 1 }
            else if q + 1 < t.count, t[q] == 0x0D, t[q + 1] == 0x0A { q += 2 }
            return (scalar, q)
        case .html:
            return characterReference(at: p, in: t)
        case .json:
            let short: Unicode.Scalar? = switch t[p + 1] {
            case UInt8(ascii: "\""): "\""
            case UInt8(ascii: "\\"): "\\"
            case UInt8(ascii: "/"): "/"
            case UInt8(ascii: "'"): "'"
            case UInt8(ascii: "b"): "\u{08}"
            case UInt8(ascii: "f"): "\u{0C}"
            case UInt8(ascii: "n"): "\n"
            case UInt8(ascii: "r"): "\r"
            case UInt8(ascii: "t"): "\t"
            default: nil
            }
            if let short { return (short, p + 2) }
            return unitEscape(at: p, in: t, lead: UInt8(ascii: "\\"))
        }
    }

    /// `\uXXXX` (JSON) or `%uXXXX` (IIS, JavaScript's escape()) at `p`, `lead` being `\` or
    /// `%`: a character of the BMP, or a surrogate pair written as two of them.
    static func unitEscape(at p: Int, in t: UnsafeBufferPointer<UInt8>, lead: UInt8) -> (Unicode.Scalar, Int)? {
        func unit(at q: Int) -> UInt32? {
            guard q + 1 < t.count, t[q] == lead, t[q + 1] == UInt8(ascii: "u") || (lead == UInt8(ascii: "%") && t[q + 1] == UInt8(ascii: "U")) else { return nil }
            return Redactor.hexValue(t, q + 2, digits: 4)
        }
        guard let high = unit(at: p) else { return nil }
        if let scalar = Unicode.Scalar(high) { return (scalar, p + 6) }
        guard (0xD800..<0xDC00).contains(high), let low = unit(at: p + 6), (0xDC00..<0xE000).contains(low),
            let scalar = Unicode.Scalar(0x10000 + (high - 0xD800) << 10 + (low - 0xDC00))
        else { return nil }
        return (scalar, p + 12)
    }

    static func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    static func characterReference(at p: Int, in t: UnsafeBufferPointer<UInt8>) -> (Unicode.Scalar, Int)? {
        if t[p + 1] == UInt8(ascii: "#") {
            guard p + 2 < t.count else { return nil }
            let hex = t[p + 2] == UInt8(ascii: "x") || t[p + 2] == UInt8(ascii: "X")
            var q = p + (hex ? 3 : 2)
            let start = q
            var value: UInt32 = 0
            while q < t.count, q - start < 8, let digit = Redactor.digitValue(t[q], hex: hex) {
                value = value * (hex ? 16 : 10) + digit
                q += 1
            }
            guard q > start, let scalar = Unicode.Scalar(value) else { return nil }
            // HTML reads a numeric reference without its `;` too (`&#34ss`).
            return q < t.count && t[q] == UInt8(ascii: ";") ? (scalar, q + 1) : (scalar, q)
        }
        // A name: letters and digits up to `;`, looked up whole.
        var q = p + 1
        while q < t.count, q - p <= HTMLEntities.longestName, isASCIIAlphanumeric(t[q]) { q += 1 }
        guard q > p + 1, q < t.count, t[q] == UInt8(ascii: ";"),
            let code = HTMLEntities.byName[Array(t[(p + 1)..<q])], let value = Unicode.Scalar(code)
        else { return nil }
        return (value, q + 1)
    }
}
