import Foundation

/// The commit checked out in the git repository that holds a file, read from `.git` itself:
/// starting `git` would cost a process per run.
public enum GitCommit {
    public static func head(containing file: String) -> String? {
        guard let root = repositoryRoot(containing: file) else { return nil }
        let dotGit = root.appendingPathComponent(".git")
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isFolder) else { return nil }
        let gitDir = isFolder.boolValue ? dotGit : linkedGitDir(dotGit, from: root)
        return gitDir.flatMap(commit)
    }

    /// The working tree's top folder of the git repository that holds `file` (the nearest
    /// folder above it with a `.git` folder or file), nil outside one.
    public static func repositoryRoot(containing file: String) -> URL? {
        var folder = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent()
        while true {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path) { return folder }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }

    /// A worktree or submodule has a `.git` file naming its git folder.
    private static func linkedGitDir(_ file: URL, from folder: URL) -> URL? {
        guard let text = try? String(contentsOf: file, encoding: .utf8), text.hasPrefix("gitdir:") else { return nil }
        let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path).standardizedFileURL
    }

    private static func commit(_ gitDir: URL) -> String? {
        guard let head = try? String(contentsOf: gitDir.appendingPathComponent("HEAD"), encoding: .utf8) else { return nil }
        let line = head.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix("ref:") else { return isHash(line) ? line : nil }
        let ref = line.dropFirst(4).trimmingCharacters(in: .whitespaces)
        // Worktrees keep shared refs in the folder `commondir` names.
        var folders = [gitDir]
        if let common = try? String(contentsOf: gitDir.appendingPathComponent("commondir"), encoding: .utf8) {
            let path = common.trimmingCharacters(in: .whitespacesAndNewlines)
            folders.append(path.hasPrefix("/") ? URL(fileURLWithPath: path) : gitDir.appendingPathComponent(path).standardizedFileURL)
        }
        for folder in folders {
            if let text = try? String(contentsOf: folder.appendingPathComponent(ref), encoding: .utf8) {
                let hash = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if isHash(hash) { return hash }
            }
            if let packed = try? String(contentsOf: folder.appendingPathComponent("packed-refs"), encoding: .utf8) {
                for entry in packed.split(separator: "\n") where entry.hasSuffix(" " + ref) {
                    let hash = String(entry.prefix { $0 != " " })
                    if isHash(hash) { return hash }
                }
            }
        }
        return nil
    }

    private static func isHash(_ text: String) -> Bool {
        (text.count == 40 || text.count == 64) && text.allSatisfy(\.isHexDigit)
    }
}

/// Where a collection lives, as its history knows it: the path of its file relative to the
/// top of the git repository that holds it, or outside a repository relative to the working
/// folder (absolute when the file is outside that too). With the collection's name, it is the
/// collection's identity: two `smoke.yaml` files in different folders keep two histories,
/// whatever folder `sonde` ran from.
public enum CollectionPath {
    /// `file` as given on the command line (relative to `workingDirectory`), symbolic links resolved.
    public static func of(file: String, workingDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        let base = URL(fileURLWithPath: workingDirectory).standardizedFileURL.resolvingSymlinksInPath()
        let absolute = URL(fileURLWithPath: file, relativeTo: base).standardizedFileURL.resolvingSymlinksInPath()
        if let root = GitCommit.repositoryRoot(containing: absolute.path)?.resolvingSymlinksInPath(), let relative = relative(absolute, to: root) {
            return relative
        }
        return relative(absolute, to: base) ?? absolute.path
    }

    static func relative(_ url: URL, to folder: URL) -> String? {
        let prefix = folder.path.hasSuffix("/") ? folder.path : folder.path + "/"
        return url.path.hasPrefix(prefix) ? String(url.path.dropFirst(prefix.count)) : nil
    }
}
