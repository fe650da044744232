import CCurl

/// Facts about the libcurl this build links, for `sonde --version`.
public enum CurlInfo {
    /// e.g. `libcurl/7.88.1 OpenSSL/3.0.15 zlib/1.2.13 brotli/1.0.9`.
    public static var version: String {
        guard let text = curl_version() else { return "libcurl (unknown version)" }
        return String(cString: text)
    }
}
