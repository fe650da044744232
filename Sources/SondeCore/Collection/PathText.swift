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

    /// The last part of a path: `r.xml` for `out/r.xml` and for `r.xml`.
    public static func lastComponent(of path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        guard let slash = path.lastIndex(of: "/") else { return String(path) }
        return String(path[path.index(after: slash)...])
    }

    /// `path` with `.` and `a/..` parts removed, as text (`common/../data/x.csv` is
    /// `data/x.csv`); a path that climbs above its start keeps its leading `..`.
    public static func normalized(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            if part == "..", absolute { continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
