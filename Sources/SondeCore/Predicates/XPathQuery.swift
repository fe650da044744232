import Foundation
import CLibXML2

/// XPath 1.0 on an XML or HTML document, with libxml2 (the library Hurl uses).
///
/// The document comes from a server and is not trusted: it is parsed without the network
/// (`XML_PARSE_NONET`), without loading a DTD, and without substituting entities into the
/// tree; libxml2's own limits on entity expansion stay on (no `XML_PARSE_HUGE`). Nothing is
/// printed: parse and XPath errors are returned as messages.
///
/// Namespaces: every prefix the document declares can be used as it is declared, and a
/// default namespace (`xmlns="…"`) is bound to the prefix `_` (as Hurl does), since XPath 1.0
/// has no default namespace: `//_:feed/_:title`.
public enum XPathQuery {
    /// What an expression evaluates to (XPath 1.0 §1): a node-set, as the string values of
    /// its nodes in document order, or a boolean, a number or a string.
    public enum Value: Sendable, Equatable {
        case nodes([String])
        case boolean(Bool)
        case number(Double)
        case string(String)

        /// As a JSON value: a boolean, a number (whole ones as integers; NaN and infinities as
        /// null), a string, one node's string value, or the list of several nodes' (none: null).
        public var json: JSONValue {
            switch self {
            case .boolean(let b): return .bool(b)
            case .number(let d):
                guard d.isFinite else { return .null }
                if d.rounded() == d, abs(d) < 1e15 { return .int(Int(d)) }
                return .double(d)
            case .string(let s): return .string(s)
            case .nodes(let nodes):
                if nodes.isEmpty { return .null }
                return nodes.count == 1 ? .string(nodes[0]) : .array(nodes.map(JSONValue.string))
            }
        }
    }

    public struct Failure: Error, Sendable, Equatable {
        public var message: String
    }

    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    /// The syntax error of an expression, or nil when it compiles.
    public static func syntaxError(_ expression: String) -> String? {
        _ = initialized
        guard let context = xmlXPathNewContext(nil) else { return "libxml2 could not make an XPath context" }
        defer { xmlXPathFreeContext(context) }
        context.pointee.error = { _, _ in }
        guard let compiled = xmlXPathCtxtCompile(context, expression) else {
            return "bad XPath '\(expression)': \(message(of: context.pointee.lastError, fallback: "it does not compile"))"
        }
        xmlXPathFreeCompExpr(compiled)
        return nil
    }

    /// `expression` evaluated on the document in `bytes`, read as HTML (libxml2's HTML
    /// parser, which recovers from what browsers accept) or as XML (which must be
    /// well-formed: a body that is not fails with the parser's message, line and column).
    public static func evaluate(_ expression: String, in bytes: [UInt8], html: Bool) -> Result<Value, Failure> {
        _ = initialized
        let document: xmlDocPtr
        if html {
            guard let context = htmlNewParserCtxt() else { return .failure(Failure(message: "libxml2 could not make an HTML parser")) }
            defer { htmlFreeParserCtxt(context) }
            let options = Int32(HTML_PARSE_NONET.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOBLANKS.rawValue)
            let parsed = bytes.withUnsafeBufferPointer { buffer in
                buffer.baseAddress.flatMap { base in
                    base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { htmlCtxtReadMemory(context, $0, Int32(clamping: buffer.count), nil, nil, options) }
                }
            }
            guard let parsed else { return .failure(Failure(message: "the body is not HTML: \(message(of: context.pointee.lastError, fallback: "it is empty"))")) }
            document = parsed
        } else {
            guard let context = xmlNewParserCtxt() else { return .failure(Failure(message: "libxml2 could not make an XML parser")) }
            defer { xmlFreeParserCtxt(context) }
            let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue)
            let parsed = bytes.withUnsafeBufferPointer { buffer in
                buffer.baseAddress.flatMap { base in
                    base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { xmlCtxtReadMemory(context, $0, Int32(clamping: buffer.count), nil, nil, options) }
                }
            }
            guard let parsed, context.pointee.wellFormed != 0 else {
                if let parsed { xmlFreeDoc(parsed) }
                return .failure(Failure(message: "the body is not XML: \(message(of: context.pointee.lastError, fallback: "it is empty"))"))
            }
            document = parsed
        }
        defer { xmlFreeDoc(document) }
        guard let context = xmlXPathNewContext(document) else { return .failure(Failure(message: "libxml2 could not make an XPath context")) }
        defer { xmlXPathFreeContext(context) }
        context.pointee.error = { _, _ in }
        registerNamespaces(of: xmlDocGetRootElement(document), in: context)
        guard let object = xmlXPathEvalExpression(expression, context) else {
            return .failure(Failure(message: "bad XPath '\(expression)': \(message(of: context.pointee.lastError, fallback: "it cannot be evaluated"))"))
        }
        defer { xmlXPathFreeObject(object) }
        switch object.pointee.type {
        case XPATH_BOOLEAN: return .success(.boolean(object.pointee.boolval != 0))
        case XPATH_NUMBER: return .success(.number(object.pointee.floatval))
        case XPATH_STRING: return .success(.string(object.pointee.stringval.map { String(cString: $0) } ?? ""))
        case XPATH_NODESET:
            var values: [String] = []
            if let set = object.pointee.nodesetval, set.pointee.nodeNr > 0, let nodes = set.pointee.nodeTab {
                for index in 0..<Int(set.pointee.nodeNr) {
                    guard let node = nodes[index] else { continue }
                    let content = xmlNodeGetContent(node)
                    values.append(content.map { String(cString: $0) } ?? "")
                    sonde_xml_free(content)
                }
            }
            return .success(.nodes(values))
        default:
            return .failure(Failure(message: "XPath '\(expression)' gives a value of a kind Sonde cannot compare"))
        }
    }

    /// Binds each namespace declared on the element and its descendants (the first
    /// declaration of a prefix wins), the default one as `_`.
    private static func registerNamespaces(of root: xmlNodePtr?, in context: xmlXPathContextPtr) {
        var seen: Set<String> = []
        var stack: [xmlNodePtr] = root.map { [$0] } ?? []
        var visited = 0
        // A bound on the walk: a document of a million elements declares its namespaces near the top.
        while let node = stack.popLast(), visited < 100_000 {
            visited += 1
            var ns = node.pointee.nsDef
            while let declaration = ns {
                let prefix = declaration.pointee.prefix.map { String(cString: $0) } ?? "_"
                if let href = declaration.pointee.href, seen.insert(prefix).inserted {
                    _ = xmlXPathRegisterNs(context, prefix, href)
                }
                ns = declaration.pointee.next
            }
            var child = node.pointee.last
            while let c = child {
                if c.pointee.type == XML_ELEMENT_NODE { stack.append(c) }
                child = c.pointee.prev
            }
        }
    }

    private static func message(of error: xmlError, fallback: String) -> String {
        guard let text = error.message.map({ String(cString: $0) })?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            return fallback
        }
        return error.line > 0 ? "\(text) (line \(error.line), column \(error.int2))" : text
    }
}
