import COpenSSL

/// SHA-256 (and MD5) through libcrypto, hex encoded: the same text `sha256sum` prints.
public enum Digest {
    /// SHA-256 fetched from libcrypto's default provider once: `SHA256()` fetches it on every
    /// call (OpenSSL 3's `EVP_Q_digest`), which cost twice the hashing of a 1 KB body.
    /// `EVP_MD` is immutable once fetched, and libcrypto documents it as safe to share.
    private nonisolated(unsafe) static let sha256Method: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)

    public static func sha256(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { sha256(UnsafeRawBufferPointer($0)) }
    }

    public static func sha256(_ text: String) -> String {
        var text = text
        return text.withUTF8 { sha256(UnsafeRawBufferPointer($0)) }
    }

    /// The hex SHA-256 of `bytes`, in one pass.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        var length: UInt32 = 0
        if let method = sha256Method {
            _ = EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, method, nil)
        } else {
            _ = SHA256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &digest)
        }
        return hex(digest)
    }

    /// The hex MD5 of `bytes` (RFC 1321), for `expect: { md5: … }`: a checksum servers still
    /// publish (Content-MD5, S3's ETag), not a security measure.
    public static func md5(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        bytes.withUnsafeBufferPointer { buffer in
            _ = EVP_Digest(buffer.baseAddress, buffer.count, &digest, &length, EVP_md5(), nil)
        }
        return hex(digest)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, byte) in bytes.enumerated() {
                out[2 * i] = digits[Int(byte >> 4)]
                out[2 * i + 1] = digits[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }
}
