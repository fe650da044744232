/// A validated collection: named requests run in order. (Named so as not to shadow Swift.Collection.)
public struct CollectionSpec: Sendable {
    public var name: String
    public var description: String?
    public var file: String
    public var location: SourceLocation
    public var baseURL: Template?
    /// The collection's `vars`, lowest precedence.
    public var variables: [VariableDefinition]
    /// Names whose values are never shown in clear.
    public var secrets: [String]
    /// The requests, with `defaults` already merged in.
    public var requests: [RequestSpec]
    /// The includes among `requests`, each with the index of the request it stands before
    /// (`requests.count`: after the last).
    public var includes: [(before: Int, include: Include)] = []
    /// `setup:` and `teardown:`: steps run before the requests and after them, whatever happened.
    public var setup: [CollectionStep] = []
    public var teardown: [CollectionStep] = []
    /// `exports:` of a file made to be included: the captures that reach the including collection.
    public var exports: [String] = []

    public init(
        name: String, description: String? = nil, file: String, location: SourceLocation, baseURL: Template? = nil,
        variables: [VariableDefinition] = [], secrets: [String] = [], requests: [RequestSpec] = []
    ) {
        self.name = name
        self.description = description
        self.file = file
        self.location = location
        self.baseURL = baseURL
        self.variables = variables
        self.secrets = secrets
        self.requests = requests
    }
}

/// A step of `setup:` or `teardown:`: a request, or an included file.
public enum CollectionStep: Sendable {
    case request(RequestSpec)
    case include(Include)
}

/// `- include: common/login.yaml` as a step: that file's steps run in place, in a scope of
/// their own (`PlanScope`), with `with:` passed in and its `exports` coming back.
public struct Include: Sendable {
    /// The path as written, relative to the including file.
    public var path: String
    /// The path to read: the including file's folder joined with `path`.
    public var file: String
    /// `name:`, or the included collection's name: its steps are named `name/request`.
    public var name: String?
    public var with: [(name: String, value: TemplateValue)]
    public var tags: [String]
    public var location: SourceLocation
    /// The file as loaded (its requests, variables, and its own includes), set by the loader.
    public var included: IncludedCollection?

    public init(path: String, file: String, name: String? = nil, with: [(name: String, value: TemplateValue)] = [], tags: [String] = [], location: SourceLocation) {
        self.path = path
        self.file = file
        self.name = name
        self.with = with
        self.tags = tags
        self.location = location
    }

    /// The prefix of its steps' ids and names.
    public var stepPrefix: String { name ?? included?.spec.name ?? PathText.lastComponent(of: path) }
}

/// An included file as loaded: its collection (requests, includes, setup and teardown are
/// not allowed in it), its variables from every source, and its secrets.
public final class IncludedCollection: Sendable {
    public let spec: CollectionSpec
    public let variables: [VariableDefinition]
    public let secrets: [String]
    /// Its relative URLs (and those of the files it includes) when it has no `base_url`:
    /// errors of the including collection unless that one has a base URL.
    public let unresolvedRelativeURLs: [Diagnostic]

    public init(spec: CollectionSpec, variables: [VariableDefinition], secrets: [String], unresolvedRelativeURLs: [Diagnostic] = []) {
        self.spec = spec
        self.variables = variables
        self.secrets = secrets
        self.unresolvedRelativeURLs = unresolvedRelativeURLs
    }
}

/// A variable from one of the sources, with where it was defined.
public struct VariableDefinition: Sendable, Hashable {
    public var name: String
    public var value: TemplateValue
    public var source: VariableSource
    public var location: SourceLocation?
    /// The type text from this source takes: that of the collection's default it overrides
    /// (`vars: { limit: 10 }` makes `--var limit=25` the number 25).
    public var convertsTo: JSONTypeName?

    public init(name: String, value: TemplateValue, source: VariableSource, location: SourceLocation? = nil, convertsTo: JSONTypeName? = nil) {
        self.name = name
        self.value = value
        self.source = source
        self.location = location
        self.convertsTo = convertsTo
    }

    /// The JSON type a typed default gives its overrides: a number, boolean, string, list or
    /// object written as such in `vars`; nil for a template or null (no conversion).
    public var declaredType: JSONTypeName? {
        switch value {
        case .number: return .number
        case .bool: return .boolean
        case .array: return .array
        case .object: return .object
        case .string(let template): return template.literalValue == nil ? nil : .string
        case .null: return nil
        }
    }

    /// `text` as a value of `type`: a JSON number, a boolean (`Booleans`), or JSON text of a
    /// list or object; nil when the text is not one.
    public static func convert(_ text: String, to type: JSONTypeName) -> JSONValue? {
        switch type {
        case .number: return ValueComparison.number(fromText: text).map(JSONValue.number)
        case .boolean: return Booleans.parse(text: text).map(JSONValue.bool)
        case .array, .object:
            guard let value = try? JSONValue.parse(text), value.typeName == type.rawValue else { return nil }
            return value
        case .string: return .string(text)
        case .null: return text == "null" ? .null : nil
        }
    }
}

/// Variable sources, lowest precedence first; captures outrank them all.
public enum VariableSource: Int, Sendable, Hashable, Comparable, CustomStringConvertible {
    case collection, environmentFile, dotEnv, commandLine, capture

    public static func < (a: VariableSource, b: VariableSource) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .collection: return "collection vars"
        case .environmentFile: return "environment file"
        case .dotEnv: return ".env"
        case .commandLine: return "--var"
        case .capture: return "capture"
        }
    }
}

/// A request as the collection writes it.
///
/// Copy-on-write: its fields (about 300 bytes) live in one shared object, so the loader's
/// list, the plan's steps and the runner hold one request once, not a copy each (a
/// collection of 20,000 requests is then 8 bytes a request in every list).
public struct RequestSpec: Sendable {
    private final class Storage: @unchecked Sendable {
        var name: String
        var location: SourceLocation
        var method: String
        var url: Template
        var query: [NamedTemplate]
        var headers: [NamedTemplate]
        var defaultQuery: [NamedTemplate]
        var defaultHeaders: [NamedTemplate]
        var body: RequestBody?
        var timeout: TimeSpan?
        var delay: TimeSpan?
        var retry: RetryPolicy?
        var skip: Template?
        var followRedirects: Bool
        var maxRedirects: Int
        var maxBodySize: ByteSize
        var locationTrusted: Bool
        var insecure: Bool
        var auth: Auth?
        var transfer: TransferSpec
        var captures: [Capture]
        var expectations: [Expectation]
        var diffIgnore: [JSONPath]
        var loop: Loop?
        var repeatUntil: RepeatUntil?
        var tags: [String]

        init(name: String, location: SourceLocation, method: String, url: Template) {
            self.name = name
            self.location = location
            self.method = method
            self.url = url
            self.query = []
            self.headers = []
            self.defaultQuery = []
            self.defaultHeaders = []
            self.body = nil
            self.timeout = nil
            self.delay = nil
            self.retry = nil
            self.skip = nil
            self.followRedirects = true
            self.maxRedirects = RequestSpec.defaultMaxRedirects
            self.maxBodySize = RequestSpec.defaultMaxBodySize
            self.locationTrusted = false
            self.insecure = false
            self.auth = nil
            self.transfer = TransferSpec()
            self.captures = []
            self.expectations = []
            self.diffIgnore = []
            self.loop = nil
            self.repeatUntil = nil
            self.tags = []
        }

        init(copying other: Storage) {
            name = other.name
            location = other.location
            method = other.method
            url = other.url
            query = other.query
            headers = other.headers
            defaultQuery = other.defaultQuery
            defaultHeaders = other.defaultHeaders
            body = other.body
            timeout = other.timeout
            delay = other.delay
            retry = other.retry
            skip = other.skip
            followRedirects = other.followRedirects
            maxRedirects = other.maxRedirects
            maxBodySize = other.maxBodySize
            locationTrusted = other.locationTrusted
            insecure = other.insecure
            auth = other.auth
            transfer = other.transfer
            captures = other.captures
            expectations = other.expectations
            diffIgnore = other.diffIgnore
            loop = other.loop
            repeatUntil = other.repeatUntil
            tags = other.tags
        }
    }

    /// Mutated only when no other copy shares it (`makeUnique`): as safe to send as its fields are.
    private var storage: Storage

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(copying: storage) }
    }

    public var name: String {
        get { storage.name }
        _modify {
            makeUnique()
            yield &storage.name
        }
    }
    public var location: SourceLocation {
        get { storage.location }
        _modify {
            makeUnique()
            yield &storage.location
        }
    }
    public var method: String {
        get { storage.method }
        _modify {
            makeUnique()
            yield &storage.method
        }
    }
    public var url: Template {
        get { storage.url }
        _modify {
            makeUnique()
            yield &storage.url
        }
    }
    /// The request's own query fields and headers; `defaults` ones are apart, since a
    /// default gives way to a field of the same name only once both names are rendered.
    public var query: [NamedTemplate] {
        get { storage.query }
        _modify {
            makeUnique()
            yield &storage.query
        }
    }
    public var headers: [NamedTemplate] {
        get { storage.headers }
        _modify {
            makeUnique()
            yield &storage.headers
        }
    }
    public var defaultQuery: [NamedTemplate] {
        get { storage.defaultQuery }
        _modify {
            makeUnique()
            yield &storage.defaultQuery
        }
    }
    public var defaultHeaders: [NamedTemplate] {
        get { storage.defaultHeaders }
        _modify {
            makeUnique()
            yield &storage.defaultHeaders
        }
    }
    public var body: RequestBody? {
        get { storage.body }
        _modify {
            makeUnique()
            yield &storage.body
        }
    }
    public var timeout: TimeSpan? {
        get { storage.timeout }
        _modify {
            makeUnique()
            yield &storage.timeout
        }
    }
    public var delay: TimeSpan? {
        get { storage.delay }
        _modify {
            makeUnique()
            yield &storage.delay
        }
    }
    public var retry: RetryPolicy? {
        get { storage.retry }
        _modify {
            makeUnique()
            yield &storage.retry
        }
    }
    public var skip: Template? {
        get { storage.skip }
        _modify {
            makeUnique()
            yield &storage.skip
        }
    }
    public var followRedirects: Bool {
        get { storage.followRedirects }
        _modify {
            makeUnique()
            yield &storage.followRedirects
        }
    }
    /// How many redirects may be followed before the request is an error.
    public var maxRedirects: Int {
        get { storage.maxRedirects }
        _modify {
            makeUnique()
            yield &storage.maxRedirects
        }
    }
    /// The largest response body read (after decompression); past it the transfer stops.
    public var maxBodySize: ByteSize {
        get { storage.maxBodySize }
        _modify {
            makeUnique()
            yield &storage.maxBodySize
        }
    }
    /// Send credentials (Authorization, Cookie headers) to another origin a redirect leads to.
    public var locationTrusted: Bool {
        get { storage.locationTrusted }
        _modify {
            makeUnique()
            yield &storage.locationTrusted
        }
    }
    public var insecure: Bool {
        get { storage.insecure }
        _modify {
            makeUnique()
            yield &storage.insecure
        }
    }
    public var auth: Auth? {
        get { storage.auth }
        _modify {
            makeUnique()
            yield &storage.auth
        }
    }
    public var captures: [Capture] {
        get { storage.captures }
        _modify {
            makeUnique()
            yield &storage.captures
        }
    }
    public var expectations: [Expectation] {
        get { storage.expectations }
        _modify {
            makeUnique()
            yield &storage.expectations
        }
    }
    /// How the request travels (`http_version`, `proxy`, `resolve`, …), defaults merged in.
    public var transfer: TransferSpec {
        get { storage.transfer }
        _modify {
            makeUnique()
            yield &storage.transfer
        }
    }
    /// `diff: { ignore: … }`: nodes left out of the recorded body hash and JSON shape, so
    /// that `sonde diff` does not report them (a fresh token, a resource version).
    public var diffIgnore: [JSONPath] {
        get { storage.diffIgnore }
        _modify {
            makeUnique()
            yield &storage.diffIgnore
        }
    }

    /// `for_each:` or `repeat: N`: the step runs once per item, each its own step.
    public var loop: Loop? {
        get { storage.loop }
        _modify {
            makeUnique()
            yield &storage.loop
        }
    }
    /// `repeat: { until, max, delay }`: sent again until the `until` expectations hold.
    public var repeatUntil: RepeatUntil? {
        get { storage.repeatUntil }
        _modify {
            makeUnique()
            yield &storage.repeatUntil
        }
    }
    /// `tags:`, for `sonde run --tag` and `--skip-tag`.
    public var tags: [String] {
        get { storage.tags }
        _modify {
            makeUnique()
            yield &storage.tags
        }
    }

    public init(name: String, location: SourceLocation, method: String = "GET", url: Template) {
        storage = Storage(name: name, location: location, method: method, url: url)
    }

    /// The redirects followed when a request does not say (the Fetch standard's limit, 20).
    public static let defaultMaxRedirects = 20
    /// The time a request may take, redirects included, when it does not say (`timeout:`).
    public static let defaultTimeout = TimeSpan(milliseconds: 30_000)
    /// The largest body read when a request does not say (`max_body_size:`), decompressed.
    public static let defaultMaxBodySize = ByteSize(bytes: 32 << 20)
    /// The longest `timeout:`, `delay:` or retry delay a collection may ask for.
    public static let longestWait = TimeSpan(milliseconds: 24 * 3_600_000)

    /// Every template the request sends (not its expectations), for checks before anything is sent.
    public var outgoingTemplates: [Template] {
        var out = [url] + (defaultQuery + query + defaultHeaders + headers).flatMap(\.templates)
        if let body { out += body.templates }
        if let auth { out += auth.templates }
        out += transfer.templates
        if let skip { out.append(skip) }
        if let loop {
            out += loop.templates
            if let key = loop.key { out.append(key) }
        }
        if let repeatUntil { out += repeatUntil.expectations.flatMap(\.predicate.templates) }
        return out
    }
}

/// A header, query or form field: its name and its value are both templates. A field
/// written with a list of values is one `NamedTemplate` per value, in order.
public struct NamedTemplate: Sendable, Hashable {
    public var name: Template
    public var value: Template

    public init(name: Template, value: Template) {
        self.name = name
        self.value = value
    }

    public init(name: String, value: Template) {
        self.init(name: Template(literal: name), value: value)
    }

    public var templates: [Template] { [name, value] }
}

public enum RequestBody: Sendable, Hashable {
    case json(TemplateValue)
    case form([NamedTemplate])
    case raw(Template)
    case multipart([MultipartPart])
    /// A file's bytes, sent as they are and read when the request is sent; the path is
    /// relative to the collection. Labelled by its extension unless the request says.
    case file(Template)
    /// Bytes written in the collection as base64 or hex.
    case bytes([UInt8])
    /// A text file read when the collection is loaded, whose text is a template; labelled
    /// with `mediaType` (from its extension) unless the request says.
    case templatedFile(Template, mediaType: String)

    public var templates: [Template] {
        switch self {
        case .json(let value): return value.templates
        case .form(let fields): return fields.flatMap(\.templates)
        case .raw(let t), .file(let t), .templatedFile(let t, _): return [t]
        case .multipart(let parts): return parts.flatMap(\.templates)
        case .bytes: return []
        }
    }
}

/// A multipart/form-data field (RFC 7578): text, or a file relative to the collection.
public struct MultipartPart: Sendable, Hashable {
    public var name: Template
    /// The text, or with `isFile` the file's path.
    public var value: Template
    public var isFile: Bool
    public var contentType: Template?
    public var filename: Template?

    public init(name: Template, value: Template, isFile: Bool, contentType: Template? = nil, filename: Template? = nil) {
        self.name = name
        self.value = value
        self.isFile = isFile
        self.contentType = contentType
        self.filename = filename
    }

    public var templates: [Template] { [name, value] + [contentType, filename].compactMap { $0 } }
}

/// `for_each:` (or `repeat: N`) on a step: the step is sent once per item, each time with
/// the item bound to `binding`, and each iteration is a step of its own, named
/// `name [key]`: the `key` template rendered, else a short text or number item itself,
/// else the iteration's number from 1.
public struct Loop: Sendable {
    public enum Items: Sendable {
        /// A list written in the collection; each item may hold templates.
        case list([TemplateValue])
        /// A template whose value is a list, known when the step is reached (a capture's).
        case template(Template)
        /// The rows of a data file (CSV with a header row, JSON array, YAML list), read at load.
        case data(file: String, rows: [JSONValue])
        /// `repeat: N`: the numbers 1 to N.
        case count(Int)
    }

    public var items: Items
    /// The variable each iteration binds (`as:`; `item` unless said).
    public var binding: String
    /// `name:` of `for_each`: the text between the brackets of each iteration's name.
    public var key: Template?
    public var location: SourceLocation

    public init(items: Items, binding: String = "item", key: Template? = nil, location: SourceLocation) {
        self.items = items
        self.binding = binding
        self.key = key
        self.location = location
    }

    /// The most iterations one loop may have: a server's list of a million items is an
    /// error of the step, not a million requests.
    public static let maxIterations = 10_000

    /// The templates the loop reads (its items' and its key's, which read the binding too).
    public var templates: [Template] {
        switch items {
        case .list(let values): values.flatMap(\.templates)
        case .template(let template): [template]
        case .data, .count: []
        }
    }

    /// Why a loop sends nothing: `for_each: {{ pods }} is an empty list`.
    public var emptyMessage: String {
        switch items {
        case .list: "for_each: the list is empty"
        case .template(let template): "for_each: \(template.source) is an empty list"
        case .data(let file, _): "for_each: \(file) has no rows"
        case .count: "repeat: no times"
        }
    }
}

/// `repeat: { until, max, delay }`: polling. The request is sent, then again after `delay`,
/// until every `until` expectation holds (then its own `expect` decides), at most `max` times.
public struct RepeatUntil: Sendable {
    public var expectations: [Expectation]
    public var max: Int
    public var delay: TimeSpan

    public init(expectations: [Expectation], max: Int, delay: TimeSpan) {
        self.expectations = expectations
        self.max = max
        self.delay = delay
    }

    public static let defaultMax = 10
    public static let defaultDelay = TimeSpan(milliseconds: 1_000)
}

public struct RetryPolicy: Sendable, Hashable {
    public var count: Int
    public var delay: TimeSpan
    public var untilStatus: [Int]?

    public init(count: Int, delay: TimeSpan, untilStatus: [Int]? = nil) {
        self.count = count
        self.delay = delay
        self.untilStatus = untilStatus
    }
}

/// Indirect: a request carries one rarely, and an inline one would take 96 bytes in every request.
public indirect enum Auth: Sendable, Hashable {
    case bearer(Template)
    case basic(username: Template, password: Template)
    case oauth2ClientCredentials(tokenURL: Template, clientID: Template, clientSecret: Template, scope: Template?)
    /// HTTP Digest (RFC 7616), by libcurl (CURLAUTH_DIGEST).
    case digest(username: Template, password: Template)
    /// NTLM, by libcurl (CURLAUTH_NTLM).
    case ntlm(username: Template, password: Template)
    /// AWS Signature Version 4, by libcurl (CURLOPT_AWS_SIGV4): `provider` is
    /// `aws:amz` unless said; a session token goes as `x-amz-security-token`.
    case awsSigV4(provider: Template, region: Template, service: Template, accessKeyID: Template, secretAccessKey: Template, sessionToken: Template?)
    /// Credentials from a .netrc file (CURLOPT_NETRC, CURLOPT_NETRC_FILE): `file` relative
    /// to the collection, else `~/.netrc`; `optional`: a host the file does not name goes without.
    case netrc(file: Template?, optional: Bool)

    public var templates: [Template] {
        switch self {
        case .bearer(let t): return [t]
        case .basic(let u, let p), .digest(let u, let p), .ntlm(let u, let p): return [u, p]
        case .awsSigV4(let provider, let region, let service, let id, let secret, let token): return [provider, region, service, id, secret] + (token.map { [$0] } ?? [])
        case .netrc(let file, _): return file.map { [$0] } ?? []
        case .oauth2ClientCredentials(let url, let id, let secret, let scope): return [url, id, secret] + (scope.map { [$0] } ?? [])
        }
    }
}

/// A value taken from a response and kept for later requests.
public struct Capture: Sendable {
    public var name: String
    public var source: Source
    public var secret: Bool
    public var location: SourceLocation

    public enum Source: Sendable {
        case jsonpath(JSONPath)
        case header(String)
        case cookie(String)
        case regex(String, group: Int)
        case status
        case duration
        /// The URL the request ended at, after redirects.
        case url
        case cookieAttribute(String, CookieAttribute)
        case xpath(String)
        case version
        case digest(BodyDigest)
        case ip
        case certificate(CertificateField)
    }

    /// Applied to what the source gives before it is kept.
    public var filters: FilterChain?

    public init(name: String, source: Source, secret: Bool, location: SourceLocation, filters: FilterChain? = nil) {
        self.name = name
        self.source = source
        self.secret = secret
        self.location = location
        self.filters = filters
    }
}

/// One check on a response.
public struct Expectation: Sendable {
    public var subject: Subject
    public var predicate: ValuePredicate
    public var location: SourceLocation

    public enum Subject: Sendable {
        case status
        case header(String)
        case jsonpath(JSONPath)
        case body
        case duration
        case schema(JSONValue)
        /// The URL the request ended at, after redirects (text).
        case url
        /// The redirects followed: a list of `{ "url", "status", "location" }` objects.
        case redirects
        /// A template rendered after the response's captures (`vars: { order_id: … }`): a
        /// variable, or any template; nothing when a variable it reads is not defined.
        case template(Template)
        /// The HTTP version of the response, as `1.0`, `1.1`, `2` or `3` (text).
        case version
        /// A cookie the response sets (`Set-Cookie`, RFC 6265 §4.1), or one of its attributes.
        case cookie(String, CookieAttribute)
        /// The body's raw bytes.
        case bytes(BytesPredicate)
        /// A cookie of the collection's cookie jar after the response (libcurl's
        /// CURLINFO_COOKIELIST), or one of its attributes: Value, Domain, Path, Secure,
        /// HttpOnly, Expires.
        case cookieJar(String, CookieAttribute)
        /// The SHA-256 or MD5 digest of the body's raw bytes, as lowercase hex text.
        case digest(BodyDigest)
        /// An XPath 1.0 expression on the body, read as HTML or XML by its Content-Type.
        case xpath(String)
        /// The IP address the request was sent to (CURLINFO_PRIMARY_IP), as text.
        case ip
        /// A field of the server's TLS certificate (CURLINFO_CERTINFO).
        case certificate(CertificateField)
    }

    public init(subject: Subject, predicate: ValuePredicate, location: SourceLocation) {
        self.subject = subject
        self.predicate = predicate
        self.location = location
    }
}

/// A cookie's value or one of its attributes (RFC 6265 §5.2), as `Set-Cookie` gives them:
/// `session`, `session[Max-Age]`, `session[HttpOnly]` (Hurl's notation).
public enum CookieAttribute: String, Sendable, Hashable, CaseIterable {
    case value = "Value"
    case expires = "Expires"
    case maxAge = "Max-Age"
    case domain = "Domain"
    case path = "Path"
    case secure = "Secure"
    case httpOnly = "HttpOnly"
    case sameSite = "SameSite"

    /// The attribute named in `name[Attribute]` (ASCII case ignored), and the cookie's name.
    /// Nil when the brackets name no attribute.
    public static func split(_ text: String) -> (name: String, attribute: CookieAttribute)? {
        guard text.hasSuffix("]"), let open = text.lastIndex(of: "[") else { return (text, .value) }
        let attributeName = text[text.index(after: open)..<text.index(before: text.endIndex)]
        guard let attribute = allCases.first(where: { $0.rawValue.equalsIgnoringASCIICase(String(attributeName)) }) else { return nil }
        return (String(text[..<open]), attribute)
    }
}

/// The fields of a server's TLS certificate a check or a capture reads (Hurl's
/// `certificate "Expire-Date"`): names as text, dates as RFC 3339 dates.
public enum CertificateField: String, Sendable, Hashable, CaseIterable {
    case subject, issuer, start_date, expire_date, serial_number
}

/// Digests of a body's raw bytes.
public enum BodyDigest: String, Sendable, Hashable, CaseIterable {
    case sha256, md5

    /// How many hex digits the digest has.
    public var hexLength: Int { self == .sha256 ? 64 : 32 }
}
