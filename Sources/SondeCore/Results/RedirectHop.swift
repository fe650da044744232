/// One redirect followed: the URL that answered, its status, the URL its Location pointed
/// to (resolved against the first, RFC 3986 §5), and the method the next request used there.
public struct RedirectHop: Sendable, Equatable {
    public var url: String
    public var status: Int
    public var location: String
    /// GET after a 303 (or a 301/302 of a POST), else the method as it was.
    public var method: String

    public init(url: String, status: Int, location: String, method: String = "GET") {
        self.url = url
        self.status = status
        self.location = location
        self.method = method
    }

    /// The hop with `transform` applied to its URLs (a redactor's).
    public func mapURLs(_ transform: (String) -> String) -> RedirectHop {
        RedirectHop(url: transform(url), status: status, location: transform(location), method: method)
    }

    /// `{ "url", "status", "location", "method" }`, as `expect: { redirects: … }` sees it and
    /// the history and JSON reports keep it.
    public var json: JSONValue { ["url": .string(url), "status": .int(status), "location": .string(location), "method": .string(method)] }

    /// A hop read back from its `json`; nil when a member is missing or of another type.
    public init?(json: JSONValue) {
        guard let url = json["url"]?.stringValue, let status = json["status"]?.numberValue?.integer, let location = json["location"]?.stringValue
        else { return nil }
        self.init(url: url, status: Int(status), location: location, method: json["method"]?.stringValue ?? "GET")
    }
}
