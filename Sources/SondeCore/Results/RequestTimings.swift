/// The phases of one exchange as libcurl measures them (CURLINFO_NAMELOOKUP_TIME_T,
/// _CONNECT_TIME_T, _APPCONNECT_TIME_T, _STARTTRANSFER_TIME_T, _TOTAL_TIME_T): each from the
/// start of the request.
public struct RequestTimings: Sendable, Equatable {
    public var dns: Duration
    public var connect: Duration
    public var tls: Duration
    public var firstByte: Duration
    public var total: Duration

    public init(dns: Duration = .zero, connect: Duration = .zero, tls: Duration = .zero, firstByte: Duration = .zero, total: Duration = .zero) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.firstByte = firstByte
        self.total = total
    }
}
