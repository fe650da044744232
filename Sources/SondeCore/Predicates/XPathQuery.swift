import Foundation
import CLibXML2

/// XPath 1.0 on an XML or HTML document, with libxml2 (the library Hurl uses).
///
/// The document comes from a server and is not trusted: it is parsed without the network
/// (`XML_PARSE_NONET`), without loading a DTD, and without substituting entities; and a
/// document that declares entities is refused, as an XPath string value would expand them
/// (a kilobyte of "billion laughs" is gigabytes of text). libxml2's own limits stay on (no
/// `XML_PARSE_HUGE`). Nothing is printed: parse and XPath errors are returned as messages.
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

    /// The steps an expression may take (libxml2's `opLimit`: nodes visited and operations):
    /// `count(//a[count(preceding::a) > 0])` is quadratic in the document, and a check must
    /// end. 50 million take a few seconds.
    public static let operationLimit: UInt = 50_000_000

    public struct Failure: Error, Sendable, Equatable {
        public var message: String
        /// The document was read, and the expression failed on it (an undeclared prefix).
        public var isEvaluation = false
    }

    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    /// What is wrong with an expression whatever the document: its syntax, a function XPath
    /// 1.0 does not have, a variable (none is defined); nil when it can run. A prefix is
    /// known only with the document, which declares it.
    public static func syntaxError(_ expression: String) -> String? {
        _ = initialized
        sonde_xml_silence()
        guard !expression.trimmingCharacters(in: .whitespaces).isEmpty else { return "the XPath is empty" }
        guard let document = xmlReadMemory("<_/>", 4, nil, nil, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue)) else { return nil }
        defer { xmlFreeDoc(document) }
        guard let context = xmlXPathNewContext(document) else { return "libxml2 could not make an XPath context" }
        defer { xmlXPathFreeContext(context) }
        context.pointee.error = { _, _ in }
        context.pointee.opLimit = operationLimit
        guard let compiled = xmlXPathCtxtCompile(context, expression) else {
            return "bad XPath '\(expression)': \(message(of: context.pointee.lastError, fallback: "it does not compile"))"
        }
        defer { xmlXPathFreeCompExpr(compiled) }
        guard let object = xmlXPathCompiledEval(compiled, context) else {
            let error = context.pointee.lastError
            // An undeclared prefix is the document's to declare.
            if error.code == Int32(XML_XPATH_UNDEF_PREFIX_ERROR.rawValue) { return nil }
            return "bad XPath '\(expression)': \(message(of: error, fallback: "it cannot be evaluated"))"
        }
        xmlXPathFreeObject(object)
        return nil
    }

    /// Whether the document's DTD declares an entity (whose use an XPath string value expands).
    private static func declaresEntities(_ document: xmlDocPtr) -> Bool {
        for dtd in [document.pointee.intSubset, document.pointee.extSubset] {
            var node = dtd?.pointee.children
            while let current = node {
                if current.pointee.type == XML_ENTITY_DECL { return true }
                node = current.pointee.next
            }
        }
        return false
    }

    /// `expression` evaluated on the document in `bytes`, read as HTML (libxml2's HTML
    /// parser, which recovers from what browsers accept) or as XML (which must be
    /// well-formed: a body that is not fails with the parser's message, line and column).
    public static func evaluate(_ expression: String, in bytes: [UInt8], html: Bool, what: String = "the body") -> Result<Value, Failure> {
        _ = initialized
        sonde_xml_silence()
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
            guard let parsed else { return .failure(Failure(message: "\(what) is not HTML: \(message(of: context.pointee.lastError, fallback: "it is empty"))")) }
            // What the parser dropped to recover is gone from the tree: a count would be wrong.
            if sonde_xml_was_too_deep() != 0 {
                xmlFreeDoc(parsed)
                return .failure(Failure(message: "\(what) nests elements deeper than libxml2 reads (256 levels), so its tree would be cut short"))
            }
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
                return .failure(Failure(message: "\(what) is not XML: \(message(of: context.pointee.lastError, fallback: "it is empty"))"))
            }
            document = parsed
        }
        defer { xmlFreeDoc(document) }
        if declaresEntities(document) {
            return .failure(Failure(message: "\(what) declares entities in a DTD, which Sonde does not expand (an entity can hide an XML bomb or read a file)"))
        }
        guard let context = xmlXPathNewContext(document) else { return .failure(Failure(message: "libxml2 could not make an XPath context")) }
        defer { xmlXPathFreeContext(context) }
        context.pointee.error = { _, _ in }
        context.pointee.opLimit = operationLimit
        registerNamespaces(of: xmlDocGetRootElement(document), in: context)
        guard let object = xmlXPathEvalExpression(expression, context) else {
            var reason = message(of: context.pointee.lastError, fallback: "it cannot be evaluated")
            // libxml2 sets the limit's error without a message.
            let code = context.pointee.lastError.code - Int32(XML_XPATH_EXPRESSION_OK.rawValue)
            if code == Int32(XPATH_OP_LIMIT_EXCEEDED.rawValue) || context.pointee.opCount > operationLimit {
                reason = "it takes more than \(operationLimit / 1_000_000) million steps, the limit of a check"
            } else if code == Int32(XPATH_RECURSION_LIMIT_EXCEEDED.rawValue) {
                reason = "it nests deeper than libxml2 evaluates"
            }
            if context.pointee.lastError.code == Int32(XML_XPATH_UNDEF_PREFIX_ERROR.rawValue) {
                let declared = declaredPrefixes(xmlDocGetRootElement(document))
                reason += declared.isEmpty ? " (the document declares no namespace)" : " (the document declares \(declared.joined(separator: ", ")))"
            }
            return .failure(Failure(message: "XPath '\(expression)' cannot be evaluated on \(what): \(reason)", isEvaluation: true))
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

    /// The prefixes the document declares (`_` for a default namespace), for messages.
    private static func declaredPrefixes(_ root: xmlNodePtr?) -> [String] {
        namespaceDeclarations(root).map(\.prefix)
    }

    /// Binds each namespace declared on the element and its descendants (the first
    /// declaration of a prefix wins), the default one as `_`.
    private static func registerNamespaces(of root: xmlNodePtr?, in context: xmlXPathContextPtr) {
        for declaration in namespaceDeclarations(root) { _ = xmlXPathRegisterNs(context, declaration.prefix, declaration.href) }
    }

    /// The namespaces declared on the element and its descendants, in document order, the
    /// first of each prefix (`_` for a default namespace). A bound on the walk: a document of
    /// a million elements declares its namespaces near the top.
    private static func namespaceDeclarations(_ root: xmlNodePtr?) -> [(prefix: String, href: UnsafePointer<xmlChar>)] {
        var out: [(prefix: String, href: UnsafePointer<xmlChar>)] = []
        var stack: [xmlNodePtr] = root.map { [$0] } ?? []
        var visited = 0
        while let node = stack.popLast(), visited < 100_000 {
            visited += 1
            var ns = node.pointee.nsDef
            while let declaration = ns {
                let prefix = declaration.pointee.prefix.map { String(cString: $0) } ?? "_"
                if let href = declaration.pointee.href, !out.contains(where: { $0.prefix == prefix }) { out.append((prefix, href)) }
                ns = declaration.pointee.next
            }
            var child = node.pointee.last
            while let c = child {
                if c.pointee.type == XML_ELEMENT_NODE { stack.append(c) }
                child = c.pointee.prev
            }
        }
        return out
    }

    private static func message(of error: xmlError, fallback: String) -> String {
        guard var text = error.message.map({ String(cString: $0) })?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            return fallback
        }
        // libxml2 names its own option; the user cannot set it, and should not.
        if text.hasPrefix("Operation limit exceeded") { return "it takes more than \(operationLimit / 1_000_000) million steps, the limit of a check" }
        text = text.replacingOccurrences(of: ", use XML_PARSE_HUGE option", with: " (a limit of libxml2 against XML bombs)")
            .replacingOccurrences(of: "use XML_PARSE_HUGE option", with: "a limit of libxml2 against XML bombs")
        return error.line > 0 ? "\(text) (line \(error.line), column \(error.int2))" : text
    }
}
