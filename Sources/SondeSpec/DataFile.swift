import Foundation
import SondeCore

/// The rows of a data file for `for_each: { data: … }` and `sonde run --data`: a CSV file
/// with a header row (each row an object of text values, RFC 4180 quoting), a JSON array,
/// or a YAML list. Errors name the data file, its line and column.
package enum DataFile {
    /// The rows of `path` (read from the disk), by its extension: `.csv`, `.json`, `.yaml`/`.yml`.
    /// Throws with the file's position of the problem.
    package static func rows(ofFile path: String) throws(DiagnosticsError) -> [JSONValue] {
        try rowsAndDigest(ofFile: path).rows
    }

    /// The rows, and the SHA-256 of the file's bytes (hex).
    package static func rowsAndDigest(ofFile path: String) throws(DiagnosticsError) -> (rows: [JSONValue], digest: String) {
        let start = SourceLocation(file: path, line: 1, column: 1)
        let data: Data
        switch LocalFile.contents(atPath: path) {
        case .success(let bytes): data = bytes
        case .failure(let problem): throw DiagnosticsError([Diagnostic("cannot read the data file (\(problem))", at: start)])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DiagnosticsError([Diagnostic("the data file is not UTF-8 text", at: start)])
        }
        let lower = path.lowercased()
        let rows: [JSONValue]
        if lower.hasSuffix(".csv") {
            rows = try csv(text, file: path)
        } else if lower.hasSuffix(".json") {
            let value: JSONValue
            do {
                value = try JSONValue.parse(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
            } catch {
                throw DiagnosticsError([Diagnostic("the data file is not JSON: \(error)", at: start)])
            }
            guard case .array(let items) = value else {
                throw DiagnosticsError([Diagnostic("a JSON data file must hold an array of rows, found \(value.typeName == "object" ? "an" : "a") \(value.typeName)", at: start)])
            }
            rows = items
        } else if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") {
            let value = try YAMLDocument.json(from: text, file: path)
            guard case .array(let items) = value else {
                throw DiagnosticsError([Diagnostic("a YAML data file must hold a list of rows, found \(value.typeName == "object" ? "a mapping" : "a \(value.typeName)")", at: start)])
            }
            rows = items
        } else {
            throw DiagnosticsError([Diagnostic("a data file is .csv (with a header row), .json (an array) or .yaml (a list)", at: start)])
        }
        guard rows.count <= Loop.maxIterations else {
            throw DiagnosticsError([Diagnostic("the data file has \(rows.count) rows, more than the \(Loop.maxIterations) a loop may have", at: start)])
        }
        return (rows, Digest.sha256(Array(data)))
    }

    /// RFC 4180: fields separated by commas, a field in double quotes may hold commas, line
    /// breaks and `""` for a quote; lines end with CRLF or LF. The first row names the
    /// columns; each other row is an object of text values in the columns' order.
    package static func csv(_ text: String, file: String) throws(DiagnosticsError) -> [JSONValue] {
        // A byte order mark (spreadsheets write one) is not part of the first column's name.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false, wasQuoted = false
        var line = 1, recordLine = 1, column = 0
        let bytes = Array(text.utf8)
        var index = 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field = []
            wasQuoted = false
        }
        func endRecord() {
            endField()
            // A blank line is no row.
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
            fields = []
        }
        while index < bytes.count {
            let byte = bytes[index]
            column += 1
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 2
                        continue
                    }
                    quoted = false
                } else {
                    if byte == 0x0A {
                        line += 1
                        column = 0
                    }
                    field.append(byte)
                }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: ","): endField()
            case UInt8(ascii: "\""):
                guard field.isEmpty, !wasQuoted else {
                    throw DiagnosticsError([Diagnostic("a quote inside a field that is not quoted; quote the whole field and write \"\" for a quote", at: SourceLocation(file: file, line: line, column: column))])
                }
                quoted = true
                wasQuoted = true
            case 0x0D where index + 1 < bytes.count && bytes[index + 1] == 0x0A: break
            case 0x0A:
                endRecord()
                line += 1
                column = 0
                recordLine = line
            default:
                if wasQuoted {
                    throw DiagnosticsError([Diagnostic("text after the closing quote of a field; a field is quoted whole", at: SourceLocation(file: file, line: line, column: column))])
                }
                field.append(byte)
            }
            index += 1
        }
        if quoted {
            throw DiagnosticsError([Diagnostic("a quoted field is not closed before the end of the file", at: SourceLocation(file: file, line: recordLine, column: 1))])
        }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        guard let header = records.first else {
            throw DiagnosticsError([Diagnostic("the data file is empty: a CSV data file starts with a header row that names its columns", at: SourceLocation(file: file, line: 1, column: 1))])
        }
        var seen = Set<String>()
        for name in header.fields {
            if name.isEmpty {
                throw DiagnosticsError([Diagnostic("the header row has an empty column name", at: SourceLocation(file: file, line: header.line, column: 1))])
            }
            if !seen.insert(name).inserted {
                throw DiagnosticsError([Diagnostic("the header row names '\(name)' twice", at: SourceLocation(file: file, line: header.line, column: 1))])
            }
        }
        guard records.count - 1 <= Loop.maxIterations else {
            throw DiagnosticsError([Diagnostic("the data file has \(records.count - 1) rows, more than the \(Loop.maxIterations) a loop may have", at: SourceLocation(file: file, line: 1, column: 1))])
        }
        var rows: [JSONValue] = []
        for record in records.dropFirst() {
            guard record.fields.count == header.fields.count else {
                throw DiagnosticsError([Diagnostic("this row has \(record.fields.count) field\(record.fields.count == 1 ? "" : "s"), the header row \(header.fields.count)", at: SourceLocation(file: file, line: record.line, column: 1))])
            }
            rows.append(.object(JSONObject(zip(header.fields, record.fields).map { ($0, JSONValue.string($1)) })))
        }
        return rows
    }
}
