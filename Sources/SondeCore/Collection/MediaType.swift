/// Content types by file extension, for files sent that do not say theirs (multipart parts, `body: { file: … }`).
public enum MediaType {
    public static func forFileExtension(_ ext: String) -> String {
        switch ext.lowercased() {
        case "json": return "application/json"
        case "txt", "text", "log": return "text/plain"
        case "csv": return "text/csv"
        case "html", "htm": return "text/html"
        case "xml": return "application/xml"
        case "yaml", "yml": return "application/yaml"
        case "js", "mjs": return "text/javascript"
        case "css": return "text/css"
        case "md": return "text/markdown"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "gif": return "image/gif"
        case "webp": return "image/webp"
        case "svg": return "image/svg+xml"
        case "ico": return "image/vnd.microsoft.icon"
        case "pdf": return "application/pdf"
        case "zip": return "application/zip"
        case "gz", "tgz": return "application/gzip"
        case "tar": return "application/x-tar"
        case "wasm": return "application/wasm"
        case "mp3": return "audio/mpeg"
        case "mp4": return "video/mp4"
        default: return "application/octet-stream"
        }
    }
}
