/// Every key a collection may use, listed once; unknown keys are found by set difference.
enum CollectionKey: String, CaseIterable {
    case name, description, base_url, vars, secrets, defaults, requests
}

enum DefaultsKey: String, CaseIterable {
    case headers, query, timeout, delay, retry, follow_redirects, max_redirects, location_trusted, max_body_size, insecure, auth
}

enum RequestKey: String, CaseIterable {
    case name, method, url, query, headers, json, form, body, multipart, timeout, delay, retry, skip
    case follow_redirects, max_redirects, location_trusted, max_body_size, insecure, auth, capture, expect
}

enum ExpectKey: String, CaseIterable {
    case status, headers, jsonpath, body, duration, schema, url, redirects
}

enum CaptureKey: String, CaseIterable {
    case jsonpath, header, cookie, regex, group, status, duration, url, secret
}

enum RetryKey: String, CaseIterable {
    case count, delay, until_status
}

enum AuthKey: String, CaseIterable {
    case bearer, basic, oauth2_client_credentials
}

enum BasicAuthKey: String, CaseIterable {
    case username, password
}

enum OAuth2Key: String, CaseIterable {
    case token_url, client_id, client_secret, scope
}

enum MultipartKey: String, CaseIterable {
    case value, file, content_type, filename
}

enum EnvironmentFileKey: String, CaseIterable {
    case vars, secrets
}

/// HTTP methods that need no second look; others are allowed unless they look like a typo of one of these.
let standardMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"]
