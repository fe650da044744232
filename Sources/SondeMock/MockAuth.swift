import Foundation
import HTTPTypes
import Hummingbird
import SondeCore

/// Authentication schemes that take a challenge and an answer, checked as a server does:
/// HTTP Digest (RFC 7616, MD5 with qop=auth) and NTLM (the three messages of MS-NLMP).
enum MockAuth {
    static let realm = "sonde-mock"
    static let nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093"

    /// `GET /digest`: 401 with a Digest challenge, then 200 `{ "user" }` for an answer made
    /// with the configured username and password.
    static func digest(_ request: Request, username: String, password: String) -> Response {
        let challenge = "Digest realm=\"\(realm)\", qop=\"auth\", nonce=\"\(nonce)\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", algorithm=MD5"
        guard let header = request.headers[.authorization], header.hasPrefix("Digest ") else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: challenge])
        }
        let fields = parameters(String(header.dropFirst(7)))
        func md5(_ text: String) -> String { Digest.md5(Array(text.utf8)) }
        let ha1 = md5("\(username):\(realm):\(password)")
        let ha2 = md5("\(request.method.rawValue):\(fields["uri"] ?? "")")
        let expected = md5("\(ha1):\(fields["nonce"] ?? ""):\(fields["nc"] ?? ""):\(fields["cnonce"] ?? ""):\(fields["qop"] ?? ""):\(ha2)")
        guard fields["username"] == username, fields["nonce"] == nonce, fields["response"] == expected, fields["uri"] == request.uri.description else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: challenge])
        }
        return MockRoutes.json(["user": .string(username), "scheme": "digest"])
    }

    /// `name=value` and `name="value"` pairs, split at commas outside quotes.
    static func parameters(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        var name = "", value = "", inValue = false, quoted = false
        func flush() {
            let key = name.trimmingCharacters(in: .whitespaces)
            if !key.isEmpty { out[key] = value }
            name = ""
            value = ""
            inValue = false
        }
        for c in text {
            if quoted {
                if c == "\"" { quoted = false } else { value.append(c) }
            } else if c == "\"" && inValue {
                quoted = true
            } else if c == "," {
                flush()
            } else if c == "=" && !inValue {
                inValue = true
            } else if inValue {
                if c != " " || !value.isEmpty { value.append(c) }
            } else {
                name.append(c)
            }
        }
        flush()
        return out
    }

    /// `GET /ntlm`: 401 `NTLM`; a NEGOTIATE message gets a CHALLENGE; an AUTHENTICATE message
    /// for the configured username gets 200 `{ "user" }` (its proof is not checked: the
    /// handshake is what a client must get right).
    static func ntlm(_ request: Request, username: String) -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("NTLM "),
            let message = Data(base64Encoded: String(header.dropFirst(5))).map(Array.init), message.count >= 12,
            message.starts(with: Array("NTLMSSP\0".utf8))
        else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "NTLM"])
        }
        switch message[8] {
        case 1:
            var challenge = Array("NTLMSSP\0".utf8)
            challenge += [2, 0, 0, 0]  // CHALLENGE_MESSAGE
            challenge += [0, 0, 0, 0, 48, 0, 0, 0]  // TargetName: empty, at 48
            challenge += [0x01, 0x82, 0x00, 0x00]  // NEGOTIATE_UNICODE | NEGOTIATE_NTLM | ALWAYS_SIGN
            challenge += [1, 2, 3, 4, 5, 6, 7, 8]  // ServerChallenge
            challenge += [UInt8](repeating: 0, count: 8)  // Reserved
            challenge += [0, 0, 0, 0, 48, 0, 0, 0]  // TargetInfo: empty, at 48
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "NTLM " + Data(challenge).base64EncodedString()])
        case 3 where message.count >= 44:
            // UserName's security buffer: length and offset, little-endian, at 36.
            let length = Int(message[36]) | Int(message[37]) << 8
            let offset = Int(message[40]) | Int(message[41]) << 8 | Int(message[42]) << 16 | Int(message[43]) << 24
            guard offset + length <= message.count else { return Response(status: .badRequest) }
            let bytes = Array(message[offset..<(offset + length)])
            let units = stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
            let user = String(decoding: units, as: UTF16.self)
            guard user == username else { return Response(status: .unauthorized, headers: [.wwwAuthenticate: "NTLM"]) }
            return MockRoutes.json(["user": .string(user), "scheme": "ntlm"])
        default:
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "NTLM"])
        }
    }
}
