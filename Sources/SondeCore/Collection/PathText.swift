/// File paths as text, without Foundation's `NSString` path methods (which trap on some
/// one-character paths in this Foundation).
public enum PathText {
    /// The folder part of a path: `""` for `a.yaml`, `/` for `/a`, `out` for `out/r.xml`
    /// and for `out/r/` (a trailing slash is dropped first).
    public static func folder(of path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `folder/name`, or `name` when there is no folder.
    public static func joining(_ folder: String, _ name: String) -> String {
        if folder.isEmpty { return name }
        return folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
