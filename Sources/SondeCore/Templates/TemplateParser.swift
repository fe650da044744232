/// Splits a template's source into literal text and `{{ }}` expressions.
struct TemplateParser {
    let scalars: [Unicode.Scalar]
    var index = 0
    /// How deep expressions nest (function calls, arguments); bounded by `Template.maxNesting`.
    var depth = 0

    init(_ source: String) {
        scalars = Array(source.unicodeScalars)
    }

    var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    func at(_ i: Int) -> Unicode.Scalar? { i < scalars.count ? scalars[i] : nil }

    mutating func parseParts() throws(TemplateError) -> [Template.Part] {
        var parts: [Template.Part] = []
        var literal = String.UnicodeScalarView()
        while let c = current {
            if c == "\\", at(index + 1) == "{", at(index + 2) == "{" {
                literal.append(contentsOf: "{{".unicodeScalars)
                index += 3
                continue
            }
            if c == "{", at(index + 1) == "{" {
                if !literal.isEmpty {
                    parts.append(.literal(String(literal)))
                    literal = String.UnicodeScalarView()
                }
                let open = index
                index += 2
                skipSpaces()
                if current == "}" && at(index + 1) == "}" { throw TemplateError("empty '{{ }}'", offset: open, length: 2) }
                let expression = try parseFiltered()
                skipSpaces()
                guard current == "}", at(index + 1) == "}" else {
                    if current == nil { throw TemplateError("'{{' is not closed by '}}'", offset: open, length: 2) }
                    throw TemplateError("unexpected '\(Character(current ?? " "))' in '{{ }}', expected '}}' or '|'", offset: index)
                }
                index += 2
                parts.append(.expression(expression))
                continue
            }
            literal.append(c)
            index += 1
        }
        if !literal.isEmpty { parts.append(.literal(String(literal))) }
        return parts
    }

    mutating func skipSpaces() {
        while let c = current, c == " " || c == "\t" || c == "\n" { index += 1 }
    }

    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic && c.isASCII || c == "_" }
    static func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || (c.value >= 0x30 && c.value <= 0x39) || c == "-"
    }

    mutating func identifier() -> String {
        var out = String.UnicodeScalarView()
        while let c = current, Self.isIdentifierPart(c) {
            out.append(c)
            index += 1
        }
        return String(out)
    }

    /// `primary ( '|' filter [ '(' args ')' ] )*`
    mutating func parseFiltered() throws(TemplateError) -> TemplateExpression {
        depth += 1
        defer { depth -= 1 }
        if depth > Template.maxNesting {
            throw TemplateError("the expression nests deeper than \(Template.maxNesting) (function calls and their arguments)", offset: index)
        }
        var expression = try parsePrimary()
        var filters = 0
        while true {
            skipSpaces()
            guard current == "|" else { return expression }
            index += 1
            skipSpaces()
            filters += 1
            if filters > Template.maxFilters {
                throw TemplateError("more than \(Template.maxFilters) filters in one chain", offset: index)
            }
            let call = try parseFilterCall()
            expression = .filter(expression, call.filter, arguments: call.arguments, offset: call.offset)
        }
    }

    /// `filter [ '(' args ')' ]`: a filter's name, checked, and its arguments, counted; a
    /// literal regex, JSONPath or date format is checked too.
    mutating func parseFilterCall() throws(TemplateError) -> (filter: TemplateFilter, arguments: [TemplateExpression], offset: Int) {
        let start = index
        let name = identifier()
        guard let filter = TemplateFilter(rawValue: name) else {
            let known = TemplateFilter.allCases.map(\.rawValue)
            if name.isEmpty { throw TemplateError("expected a filter name", offset: start) }
            let hint: String
            if let renamed = TemplateFilter.hurlNames[name] {
                hint = "; Hurl's '\(name)' is '\(renamed.rawValue)' here"
            } else {
                hint = nearestName(to: name, among: known).map { "; did you mean '\($0)'?" } ?? " (filters: \(known.joined(separator: ", ")))"
            }
            throw TemplateError("unknown filter '\(name)'\(hint)", offset: start, length: max(1, name.unicodeScalars.count))
        }
        let arguments = current == "(" ? try parseArguments() : []
        guard filter.arity.contains(arguments.count) else {
            let arity = filter.arity
            let wanted = arity.count == 1 ? "\(arity.lowerBound)" : "\(arity.lowerBound) or \(arity.upperBound)"
            throw TemplateError("filter '\(name)' takes \(wanted) argument\(arity == 1...1 ? "" : "s"), got \(arguments.count)", offset: start, length: name.unicodeScalars.count)
        }
        for (index, argument) in arguments.enumerated() {
            if case .literal(let value) = argument, let problem = filter.checkLiteral(value, at: index) {
                throw TemplateError(problem, offset: start, length: name.unicodeScalars.count)
            }
        }
        return (filter, arguments, start)
    }

    mutating func parseArguments() throws(TemplateError) -> [TemplateExpression] {
        index += 1  // (
        var arguments: [TemplateExpression] = []
        skipSpaces()
        if current == ")" {
            index += 1
            return arguments
        }
        while true {
            skipSpaces()
            arguments.append(try parseFiltered())
            skipSpaces()
            if current == "," {
                index += 1
                continue
            }
            guard current == ")" else { throw TemplateError("expected ',' or ')' in the argument list", offset: index) }
            index += 1
            return arguments
        }
    }

    mutating func parsePrimary() throws(TemplateError) -> TemplateExpression {
        let start = index
        guard let c = current else { throw TemplateError("'{{' is not closed by '}}'", offset: index) }
        if c == "'" || c == "\"" { return .literal(.string(try parseString())) }
        if c == "-" || (c.value >= 0x30 && c.value <= 0x39) { return .literal(.number(try parseNumber())) }
        guard Self.isIdentifierStart(c) else {
            throw TemplateError("unexpected '\(Character(c))': expected a variable name, a quoted string, a number or a function", offset: index)
        }
        let name = identifier()
        if current == "(" {
            guard let function = TemplateFunction(rawValue: name) else {
                let known = TemplateFunction.allCases.map(\.rawValue)
                let hint = nearestName(to: name, among: known).map { "; did you mean '\($0)()'?" } ?? " (functions: \(known.map { $0 + "()" }.joined(separator: ", ")))"
                throw TemplateError("unknown function '\(name)'\(hint)", offset: start, length: name.unicodeScalars.count)
            }
            let arguments = try parseArguments()
            guard arguments.count == function.arity else {
                throw TemplateError("\(name)() takes \(function.arity) argument\(function.arity == 1 ? "" : "s"), got \(arguments.count)", offset: start, length: name.unicodeScalars.count)
            }
            return .call(function, arguments: arguments, offset: start)
        }
        switch name {
        case "true": return .literal(.bool(true))
        case "false": return .literal(.bool(false))
        case "null": return .literal(.null)
        default: break
        }
        var path: [String] = []
        while current == ".", let next = at(index + 1), Self.isIdentifierPart(next) {
            index += 1
            path.append(identifier())
        }
        if name == "env" {
            guard path.count == 1 else {
                throw TemplateError("write an environment variable as env.NAME", offset: start, length: index - start)
            }
            return .environment(name: path[0], offset: start, length: index - start)
        }
        return .variable(name: name, path: path, offset: start, length: index - start)
    }

    mutating func parseString() throws(TemplateError) -> String {
        let start = index
        guard let quote = current else { throw TemplateError("expected a string", offset: index) }
        index += 1
        var out = String.UnicodeScalarView()
        while let c = current {
            index += 1
            if c == quote { return String(out) }
            if c == "\\", let next = current {
                index += 1
                switch next {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                default: out.append(next)
                }
                continue
            }
            out.append(c)
        }
        throw TemplateError("unterminated string in '{{ }}'", offset: start)
    }

    mutating func parseNumber() throws(TemplateError) -> JSONNumber {
        let start = index
        var text = String.UnicodeScalarView()
        if current == "-" {
            text.append("-")
            index += 1
        }
        while let c = current, (c.value >= 0x30 && c.value <= 0x39) || c == "." || c == "e" || c == "E"
            || ((c == "+" || c == "-") && (text.last == "e" || text.last == "E"))
        {
            text.append(c)
            index += 1
        }
        let literal = String(text)
        if let number = ValueComparison.number(fromText: literal) { return number }
        throw TemplateError("invalid number '\(literal)'", offset: start, length: max(1, literal.count))
    }
}
