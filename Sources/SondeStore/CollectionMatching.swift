import Foundation
import SondeCore

extension CollectionIdentity {
    /// The collections (name and path) that `text`, a filter's `collection`, stands for among
    /// those recorded: the file it names, when it names an existing file or looks like a
    /// path (holds `/`, ends in `.yaml` or `.yml`), else the collections of that name. Empty
    /// when none matches. Throws a usage `HistoryError` for a name that two files share, and
    /// for a text that is one collection's file and another's name.
    public static func matching(_ text: String, among recorded: [CollectionIdentity]) throws(HistoryError) -> [CollectionIdentity] {
        let sorted = recorded.sorted { ($0.path, $0.name) < ($1.path, $1.name) }
        let looksLikePath = text.contains("/") || text.hasSuffix(".yaml") || text.hasSuffix(".yml")
        if looksLikePath || FileManager.default.fileExists(atPath: text) {
            let path = CollectionPath.of(file: text)
            let found = sorted.filter { $0.path == path }
            // A collection may be named like another's file: then the text names both.
            let named = sorted.filter { $0.name == text && !found.contains($0) }
            if !found.isEmpty, !named.isEmpty {
                let files = (found + named).map { "  \($0.path) (named '\($0.name)')" }.joined(separator: "\n")
                throw HistoryError("'\(text)' is the file of one collection and the name of another; give the other's file, or ./ before this one:\n\(files)", isUsage: true)
            }
            if !found.isEmpty || (looksLikePath && named.isEmpty) { return found.isEmpty ? named : found }
        }
        let found = sorted.filter { $0.name == text }
        if found.count > 1 {
            let files = found.map { "  \($0.path)" }.joined(separator: "\n")
            throw HistoryError("'\(text)' names \(found.count) collections, recorded from different files; give the file instead:\n\(files)", isUsage: true)
        }
        return found
    }
}
