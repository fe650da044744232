/// Every key a collection may use, listed once; unknown keys are found by set difference.
package enum CollectionKey: String, CaseIterable {
    case name, description, base_url, vars, secrets, defaults, setup, requests, teardown, exports
}

/// A step that runs another file's requests in place: `- include: common/login.yaml`.
package enum IncludeKey: String, CaseIterable {
    case include, name, with, tags
}

/// `for_each:` written as a mapping.
package enum ForEachKey: String, CaseIterable {
    case items, data, `as`, name
}

/// `repeat:` written as a mapping: polling.
package enum RepeatKey: String, CaseIterable {
    case until, max, delay
}

package enum DefaultsKey: String, CaseIterable {
    case headers, query, timeout, delay, retry, follow_redirects, max_redirects, location_trusted, max_body_size, insecure, auth, diff
    case http_version, connect_timeout, connect_to, resolve, ipv4, ipv6, cert, key, cacert, proxy, compressed, limit_rate, path_as_is, user_agent, cookies

    /// The keys of how a request travels (`TransferSpec`), which a request may set too.
    var transferKey: TransferKey? { TransferKey(rawValue: rawValue) }
}

/// The keys of `TransferSpec`: in `defaults` and on a request.
package enum TransferKey: String, CaseIterable {
    case http_version, connect_timeout, connect_to, resolve, ipv4, ipv6, cert, key, cacert, proxy, compressed, limit_rate, path_as_is, user_agent, cookies
}

package enum RequestKey: String, CaseIterable {
    case name, method, url, query, headers, json, form, body, multipart, timeout, delay, retry, skip, for_each, `repeat`, tags
    case follow_redirects, max_redirects, location_trusted, max_body_size, insecure, auth, capture, expect, diff
    case http_version, connect_timeout, connect_to, resolve, ipv4, ipv6, cert, key, cacert, proxy, compressed, limit_rate, path_as_is, user_agent, cookies

    var transferKey: TransferKey? { TransferKey(rawValue: rawValue) }

    /// Which keys a request sets, one bit each: kept for every request until `defaults` is read.
    package struct Set {
        private var bits: UInt64 = 0
        package init() {}
        package mutating func insert(_ key: RequestKey) { bits |= 1 << RequestKey.bit(of: key) }
        package func contains(_ key: RequestKey) -> Bool { bits & (1 << RequestKey.bit(of: key)) != 0 }
    }

    /// Its place among the cases (40 of them, fewer than 64).
    private static func bit(of key: RequestKey) -> Int { allCases.firstIndex(of: key) ?? 63 }
}

/// `diff:` on a request or in `defaults`: how `sonde diff` compares its runs.
package enum DiffKey: String, CaseIterable {
    case ignore
}

package enum ExpectKey: String, CaseIterable {
    case status, headers, jsonpath, xpath, body, bytes, sha256, md5, duration, schema, url, redirects, version, ip, certificate, cookies, cookie_jar, vars
}

package enum CaptureKey: String, CaseIterable {
    case jsonpath, xpath, header, cookie, regex, group, status, duration, url, version, ip, certificate, sha256, md5, filters, secret
}

/// `body:` written as a mapping: bytes from a file, or written as base64 or hex.
package enum BodyKey: String, CaseIterable {
    case file, templated, base64, hex
}

/// Bytes a `bytes:` check compares with: exactly one of these.
package enum BytesKey: String, CaseIterable {
    case file, base64, hex
}

package enum RetryKey: String, CaseIterable {
    case count, delay, until_status
}

package enum AuthKey: String, CaseIterable {
    case bearer, basic, digest, ntlm, aws_sigv4, netrc, oauth2_client_credentials
}

package enum AWSSigV4Key: String, CaseIterable {
    case provider, region, service, access_key_id, secret_access_key, session_token
}

package enum NetrcKey: String, CaseIterable {
    case file, optional
}

package enum BasicAuthKey: String, CaseIterable {
    case username, password
}

package enum OAuth2Key: String, CaseIterable {
    case token_url, client_id, client_secret, scope
}

package enum MultipartKey: String, CaseIterable {
    case value, file, content_type, filename
}

package enum EnvironmentFileKey: String, CaseIterable {
    case vars, secrets
}

/// HTTP methods that need no second look; others are allowed unless they look like a typo of one of these.
let standardMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"]
