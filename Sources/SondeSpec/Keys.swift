/// Every key a collection may use, listed once; unknown keys are found by set difference.
package enum CollectionKey: String, CaseIterable {
    case name, description, base_url, vars, secrets, defaults, requests
}

package enum DefaultsKey: String, CaseIterable {
    case headers, query, timeout, delay, retry, follow_redirects, max_redirects, location_trusted, max_body_size, insecure, auth, diff
}

package enum RequestKey: String, CaseIterable {
    case name, method, url, query, headers, json, form, body, multipart, timeout, delay, retry, skip
    case follow_redirects, max_redirects, location_trusted, max_body_size, insecure, auth, capture, expect, diff

    /// Which keys a request sets, one bit each: kept for every request until `defaults` is read.
    package struct Set {
        private var bits: UInt64 = 0
        package init() {}
        package mutating func insert(_ key: RequestKey) { bits |= 1 << RequestKey.bit(of: key) }
        package func contains(_ key: RequestKey) -> Bool { bits & (1 << RequestKey.bit(of: key)) != 0 }
    }

    /// Its place among the cases (22 of them, fewer than 64).
    private static func bit(of key: RequestKey) -> Int { allCases.firstIndex(of: key) ?? 63 }
}

/// `diff:` on a request or in `defaults`: how `sonde diff` compares its runs.
package enum DiffKey: String, CaseIterable {
    case ignore
}

package enum ExpectKey: String, CaseIterable {
    case status, headers, jsonpath, body, duration, schema, url, redirects
}

package enum CaptureKey: String, CaseIterable {
    case jsonpath, header, cookie, regex, group, status, duration, url, secret
}

package enum RetryKey: String, CaseIterable {
    case count, delay, until_status
}

package enum AuthKey: String, CaseIterable {
    case bearer, basic, oauth2_client_credentials
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
