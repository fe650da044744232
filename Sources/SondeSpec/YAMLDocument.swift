import SondeCore

/// A YAML file read as plain JSON (the YAML 1.2 core schema), e.g. to check it against a JSON Schema.
public enum YAMLDocument {
    public static func json(from text: String, file: String) throws(DiagnosticsError) -> JSONValue {
        let source = YAMLSource(file: file, text: text)
        guard let root = try source.compose() else { return .null }
        guard let value = SpecReader(source: source).jsonValue(root) else {
            throw DiagnosticsError([Diagnostic("the document uses YAML features JSON cannot hold (aliases or non-string keys)", at: source.location(of: root))])
        }
        return value
    }
}
