/// A KubeSphere-like API for `sonde demo` and the tests (issue: `sonde run`).
public enum SondeMock {
    /// The credentials the mock's login accepts, as the bundled collection sends them.
    public static let username = "admin"
    public static let password = "P@88w0rd"
}
