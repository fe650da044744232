import SondeCore
import Testing

/// The byte-level text helpers the loader and the runner use instead of Foundation's, the
/// redactor's memo, and SHA-256 with its method fetched once.
struct TextHelpersTests {
    @Test func firstRangeOfExactlyFindsBytes() {
        let url = "https://user:pa55@example.com:8443/v1/{{ id }}?q=1"
        let range = url.firstRange(ofExactly: "://")
        #expect(range.map { String(url[..<$0.lowerBound]) } == "https")
        #expect(url.firstRange(ofExactly: "{{").map { String(url[$0.lowerBound...]) } == "{{ id }}?q=1")
        #expect(url.firstRange(ofExactly: "}}?q=1").map { String(url[$0]) } == "}}?q=1")
        #expect(url.firstRange(ofExactly: "absent") == nil)
        #expect(url.firstRange(ofExactly: "") == nil)
        #expect("ab".firstRange(ofExactly: "abc") == nil)
        // A near miss before the match: the search goes on after it.
        #expect("::/://".firstRange(ofExactly: "://").map { "::/://".utf8.distance(from: "::/://".startIndex, to: $0.lowerBound) } == 3)
        // In a substring, the range is the substring's (and the string's) own.
        let tail = url.dropFirst(8)
        let at = tail.firstRange(ofExactly: "@")
        #expect(at.map { String(tail[..<$0.lowerBound]) } == "user:pa55")
        // Code points, not canonical equivalence: é written as e + U+0301 is not é.
        #expect("cafe\u{301}".firstRange(ofExactly: "café") == nil)
        #expect("café!".firstRange(ofExactly: "é!") != nil)
    }

    @Test func exactEqualityAndBlanks() {
        #expect("é".isExactly("é"))
        #expect(!"é".isExactly("e\u{301}"))
        #expect("e\u{301}" == "é")
        #expect(!"abc".isExactly("abd") && !"abc".isExactly("ab") && "".isExactly(""))
        #expect(ExactString("a long key of more than fifteen bytes") == ExactString("a long key of more than fifteen bytes"))
        #expect("".isBlank && " \t\u{00A0}\u{3000}".isBlank && !" x ".isBlank && !"\n".isBlank)
    }

    /// A text masked before a secret was added is masked again after: the memo is per set of
    /// secrets, and a copy made before keeps its own.
    @Test func theRedactorsMemoFollowsItsSecrets() {
        var redactor = Redactor(["first-secret-123"])
        let text = "first-secret-123 and later-secret-456"
        #expect(redactor.redact(text) == "\(Redactor.mask) and later-secret-456")
        #expect(redactor.redact(text) == "\(Redactor.mask) and later-secret-456")
        let before = redactor
        redactor.add("later-secret-456")
        #expect(redactor.redact(text) == "\(Redactor.mask) and \(Redactor.mask)")
        #expect(before.redact(text) == "\(Redactor.mask) and later-secret-456")
        // Beyond the memo's bounds, texts are still masked, each time.
        let long = String(repeating: "x", count: 5_000) + " later-secret-456"
        #expect(redactor.redact(long).hasSuffix(Redactor.mask) && redactor.redact(long).hasSuffix(Redactor.mask))
        for i in 0..<3_000 { _ = redactor.redact("filler \(i)") }
        #expect(redactor.redact(text) == "\(Redactor.mask) and \(Redactor.mask)")
    }

    @Test func sha256IsTheStandardOne() {
        #expect(Digest.sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256(Array("abc".utf8)) == Digest.sha256("abc"))
    }
}

extension TextHelpersTests {
    /// Hosts and ports read on bytes: a port is digits only, a host has no colon outside
    /// an IP literal's brackets, and a bracket is closed.
    @Test func malformedHostsAndPortsAreRefused() {
        for url in ["http://127.0.0.1:+8080/", "http://127.0.0.1:8080:8080/", "http://[::1/", "http://h:0/", "http://h:65536/", "http://h:８０/"] {
            #expect(RequestURL.problem(withAbsolute: url) != nil, "\(url)")
        }
        for url in ["http://[::1]:8080/x", "http://[::1]/", "https://user:p%40ss@h.example:443/a?b#c", "http://h:/"] {
            #expect(RequestURL.problem(withAbsolute: url) == nil, "\(url)")
        }
        #expect(RequestURL.origin(of: "HTTP://User@Example.COM/x") == "http://example.com:80")
        #expect(RequestURL.origin(of: "https://[::1]/x") == "https://[::1]:443")
        #expect(RequestURL.credentials(of: "https://u%40x:p%3Aw@h/")?.password == "p:w")
        #expect(RequestURL.join(base: "https://h/v2/", "//pods?x=1#f") == "https://h/v2/pods?x=1#f")
    }
}
