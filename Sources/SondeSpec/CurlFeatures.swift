import CCurl

/// What the linked libcurl can do (curl_version_info), for the options that need a feature
/// some builds leave out: `validate` says so before anything is sent.
enum CurlFeatures {
    private static let features: Int32 = sonde_curl_version_info()?.pointee.features ?? 0

    static var hasHTTP3: Bool { features & CURL_VERSION_HTTP3 != 0 }
    static var hasNTLM: Bool { features & CURL_VERSION_NTLM != 0 }

    /// `libcurl 7.88.1`.
    static var version: String {
        guard let text = sonde_curl_version_info()?.pointee.version else { return "libcurl" }
        return "libcurl " + String(cString: text)
    }
}
