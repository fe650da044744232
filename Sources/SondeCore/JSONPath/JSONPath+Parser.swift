/// A recursive-descent parser for the ABNF of RFC 9535, over Unicode scalars.
struct JSONPathParser {
    let scalars: [Unicode.Scalar]
    var index = 0
    /// How deep filters, parentheses, negations and function calls nest here; beyond
    /// `JSONPath.maxNesting`, an error (30,000 nested `!(` must not overflow the stack).
    var nesting = 0

    /// Largest and smallest integers an index or slice may use (I-JSON's exact range).
    static let maxSafeInteger = 9_007_199_254_740_991

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    func error(_ message: String, at position: Int? = nil) -> JSONPathError {
        JSONPathError(message: message, column: (position ?? index) + 1)
    }

    var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    func describeCurrent() -> String {
        guard let c = current else { return "end of query" }
        return "'\(Character(c))'"
    }

    static func isBlank(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\r" }
    static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }
    static func isAlpha(_ c: Unicode.Scalar) -> Bool {
        (c.value >= 0x41 && c.value <= 0x5A) || (c.value >= 0x61 && c.value <= 0x7A)
    }
    static func isNameFirst(_ c: Unicode.Scalar) -> Bool {
        isAlpha(c) || c == "_" || (c.value >= 0x80 && c.value <= 0xD7FF) || c.value >= 0xE000
    }
    static func isNameChar(_ c: Unicode.Scalar) -> Bool { isNameFirst(c) || isDigit(c) }

    mutating func skipBlanks() {
        while let c = current, Self.isBlank(c) { index += 1 }
    }

    mutating func consume(_ c: Unicode.Scalar) -> Bool {
        if current == c {
            index += 1
            return true
        }
        return false
    }

    mutating func consume(_ s: String) -> Bool {
        let expected = Array(s.unicodeScalars)
        guard index + expected.count <= scalars.count,
            Array(scalars[index..<(index + expected.count)]) == expected
        else { return false }
        index += expected.count
        return true
    }

    mutating func expect(_ c: Unicode.Scalar, _ what: String) throws(JSONPathError) {
        guard consume(c) else { throw error("expected \(what), found \(describeCurrent())") }
    }

    // MARK: Queries and segments

    mutating func parseRootQuery() throws(JSONPathError) -> PathQuery {
        guard consume("$") else {
            throw error(scalars.isEmpty ? "empty query, a JSONPath starts with '$'" : "a JSONPath starts with '$', found \(describeCurrent())")
        }
        let segments = try parseSegments()
        if index < scalars.count {
            if Self.isBlank(scalars[index]) { throw error("unexpected white space") }
            throw error("unexpected \(describeCurrent())")
        }
        return PathQuery(isAbsolute: true, segments: segments)
    }

    /// `*(S segment)`: blanks are consumed only when a segment follows them.
    mutating func parseSegments() throws(JSONPathError) -> [PathSegment] {
        var segments: [PathSegment] = []
        while true {
            let saved = index
            skipBlanks()
            guard let c = current, c == "." || c == "[" else {
                index = saved
                return segments
            }
            segments.append(try parseSegment())
        }
    }

    mutating func parseSegment() throws(JSONPathError) -> PathSegment {
        if consume("..") {
            if current == "[" {
                return PathSegment(isDescendant: true, selectors: try parseBracketedSelection())
            }
            if consume("*") { return PathSegment(isDescendant: true, selectors: [.wildcard]) }
            guard let c = current, Self.isNameFirst(c) else {
                throw error("expected a member name, '*' or '[' after '..', found \(describeCurrent())")
            }
            return PathSegment(isDescendant: true, selectors: [.name(parseMemberNameShorthand())])
        }
        if consume(".") {
            if consume("*") { return PathSegment(isDescendant: false, selectors: [.wildcard]) }
            guard let c = current, Self.isNameFirst(c) else {
                throw error("expected a member name or '*' after '.', found \(describeCurrent())")
            }
            return PathSegment(isDescendant: false, selectors: [.name(parseMemberNameShorthand())])
        }
        return PathSegment(isDescendant: false, selectors: try parseBracketedSelection())
    }

    mutating func parseMemberNameShorthand() -> String {
        var name = String.UnicodeScalarView()
        while let c = current, Self.isNameChar(c) {
            name.append(c)
            index += 1
        }
        return String(name)
    }

    mutating func parseBracketedSelection() throws(JSONPathError) -> [PathSelector] {
        try expect("[", "'['")
        var selectors: [PathSelector] = []
        repeat {
            skipBlanks()
            selectors.append(try parseSelector())
            skipBlanks()
        } while consume(",")
        try expect("]", "',' or ']'")
        return selectors
    }

    mutating func parseSelector() throws(JSONPathError) -> PathSelector {
        guard let c = current else { throw error("expected a selector, found end of query") }
        switch c {
        case "'", "\"": return .name(try parseStringLiteral())
        case "*":
            index += 1
            return .wildcard
        case "?":
            index += 1
            skipBlanks()
            try enter()
            defer { nesting -= 1 }
            let expression = try parseLogicalOr()
            try checkLogical(expression)
            return .filter(expression)
        case ":":
            return try parseSlice(start: nil)
        case "-", "0"..."9":
            let start = index
            let value = try parseInteger()
            skipBlanks()
            if current == ":" { return try parseSlice(start: value) }
            index = start
            _ = try parseInteger()
            return .index(value)
        default:
            throw error("expected a selector (a quoted name, '*', an index, a slice or a '?' filter), found \(describeCurrent())")
        }
    }

    /// `[start S] ":" S [end S] [":" [S step]]`, with `start` already read.
    mutating func parseSlice(start: Int?) throws(JSONPathError) -> PathSelector {
        try expect(":", "':'")
        skipBlanks()
        var end: Int?
        var step: Int?
        if let c = current, c == "-" || Self.isDigit(c) {
            end = try parseInteger()
            skipBlanks()
        }
        if consume(":") {
            skipBlanks()
            if let c = current, c == "-" || Self.isDigit(c) {
                step = try parseInteger()
            }
        }
        return .slice(start: start, end: end, step: step)
    }

    /// `int = "0" / (["-"] DIGIT1 *DIGIT)`, within I-JSON's exact range.
    mutating func parseInteger() throws(JSONPathError) -> Int {
        let start = index
        let negative = consume("-")
        guard let first = current, Self.isDigit(first) else { throw error("expected a digit, found \(describeCurrent())") }
        if first == "0" {
            index += 1
            if negative { throw error("'-0' is not a valid index", at: start) }
            if let c = current, Self.isDigit(c) { throw error("leading zeros are not allowed in an integer", at: start) }
            return 0
        }
        var value = 0
        while let c = current, Self.isDigit(c) {
            value = value &* 10 &+ Int(c.value - 0x30)
            index += 1
            if value > Self.maxSafeInteger || index - start > 17 {
                while let c = current, Self.isDigit(c) { index += 1 }
                throw error("integer out of range (at most ±(2^53-1))", at: start)
            }
        }
        return negative ? -value : value
    }

    // MARK: String literals

    mutating func parseStringLiteral() throws(JSONPathError) -> String {
        let start = index
        guard let quote = current, quote == "'" || quote == "\"" else { throw error("expected a quoted string") }
        index += 1
        var out = String.UnicodeScalarView()
        while true {
            guard let c = current else { throw error("unterminated string literal", at: start) }
            index += 1
            if c == quote { return String(out) }
            if c == "\\" {
                guard let e = current else { throw error("unterminated string literal", at: start) }
                index += 1
                switch e {
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "/": out.append("/")
                case "\\": out.append("\\")
                case "u": out.append(try parseUnicodeEscape())
                default:
                    if e == quote {
                        out.append(e)
                    } else {
                        throw error("invalid escape '\\\(Character(e))' in a string literal", at: index - 2)
                    }
                }
                continue
            }
            if c.value < 0x20 { throw error("control characters must be escaped in a string literal", at: index - 1) }
            out.append(c)
        }
    }

    mutating func parseHex4() throws(JSONPathError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = current, let digit = Character(c).hexDigitValue, c.isASCII else {
                throw error("expected four hex digits in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    mutating func parseUnicodeEscape() throws(JSONPathError) -> Unicode.Scalar {
        let start = index - 2
        let first = try parseHex4()
        if first >= 0xDC00 && first <= 0xDFFF { throw error("lone low surrogate in a \\u escape", at: start) }
        if first >= 0xD800 && first <= 0xDBFF {
            guard consume("\\u") else { throw error("a high surrogate must be followed by a low surrogate", at: start) }
            let second = try parseHex4()
            guard second >= 0xDC00 && second <= 0xDFFF else {
                throw error("a high surrogate must be followed by a low surrogate", at: start)
            }
            let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw error("invalid \\u escape", at: start) }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else { throw error("invalid \\u escape", at: start) }
        return scalar
    }

    // MARK: Filter expressions

    mutating func parseLogicalOr() throws(JSONPathError) -> FilterExpression {
        var operands = [try parseLogicalAnd()]
        while true {
            let saved = index
            skipBlanks()
            guard consume("||") else {
                index = saved
                break
            }
            skipBlanks()
            operands.append(try parseLogicalAnd())
        }
        return operands.count == 1 ? operands[0] : .or(operands)
    }

    mutating func parseLogicalAnd() throws(JSONPathError) -> FilterExpression {
        var operands = [try parseBasic()]
        while true {
            let saved = index
            skipBlanks()
            guard consume("&&") else {
                index = saved
                break
            }
            skipBlanks()
            operands.append(try parseBasic())
        }
        return operands.count == 1 ? operands[0] : .and(operands)
    }

    /// One level deeper into the expression; throws past `JSONPath.maxNesting`.
    mutating func enter() throws(JSONPathError) {
        nesting += 1
        if nesting > JSONPath.maxNesting {
            throw error("the expression nests deeper than \(JSONPath.maxNesting) (filters, parentheses, '!' and function calls)")
        }
    }

    mutating func parseBasic() throws(JSONPathError) -> FilterExpression {
        try enter()
        defer { nesting -= 1 }
        if consume("!") {
            skipBlanks()
            if current == "(" { return .not(try parseParenthesized()) }
            let start = index
            let operand = try parseOperand()
            if case .literal = operand {
                throw error("'!' applies to a query, a function or a parenthesized expression", at: start)
            }
            return .not(.test(operand, at: start))
        }
        if current == "(" { return try parseParenthesized() }
        let start = index
        let left = try parseOperand()
        let saved = index
        skipBlanks()
        if let op = parseComparisonOperator() {
            skipBlanks()
            let rightStart = index
            let right = try parseOperand()
            try checkComparable(left, at: start)
            try checkComparable(right, at: rightStart)
            return .comparison(left, op, right)
        }
        index = saved
        return .test(left, at: start)
    }

    mutating func parseParenthesized() throws(JSONPathError) -> FilterExpression {
        try expect("(", "'('")
        skipBlanks()
        let inner = try parseLogicalOr()
        skipBlanks()
        try expect(")", "')'")
        return inner
    }

    mutating func parseComparisonOperator() -> ComparisonOperator? {
        for op in [ComparisonOperator.equal, .notEqual, .lessOrEqual, .greaterOrEqual, .less, .greater] where consume(op.rawValue) {
            return op
        }
        return nil
    }

    /// A literal, a query (`@…` or `$…`) or a function call.
    mutating func parseOperand() throws(JSONPathError) -> FilterOperand {
        guard let c = current else { throw error("expected an expression, found end of query") }
        switch c {
        case "@":
            index += 1
            return .query(PathQuery(isAbsolute: false, segments: try parseSegments()))
        case "$":
            index += 1
            return .query(PathQuery(isAbsolute: true, segments: try parseSegments()))
        case "'", "\"":
            return .literal(.string(try parseStringLiteral()))
        case "-", "0"..."9":
            return .literal(.number(try parseNumberLiteral()))
        default:
            if consume("true") { return try literalKeyword(.bool(true)) }
            if consume("false") { return try literalKeyword(.bool(false)) }
            if consume("null") { return try literalKeyword(.null) }
            if c.value >= 0x61 && c.value <= 0x7A { return .function(try parseFunctionCall()) }
            throw error("expected a query, a literal or a function, found \(describeCurrent())")
        }
    }

    mutating func literalKeyword(_ value: JSONValue) throws(JSONPathError) -> FilterOperand {
        if let c = current, Self.isNameChar(c) || c == "(" { throw error("unexpected \(describeCurrent())") }
        return .literal(value)
    }

    /// `number = (int / "-0") [frac] [exp]`.
    mutating func parseNumberLiteral() throws(JSONPathError) -> JSONNumber {
        let start = index
        _ = consume("-")
        guard let first = current, Self.isDigit(first) else { throw error("expected a digit, found \(describeCurrent())") }
        if first == "0" {
            index += 1
            if let c = current, Self.isDigit(c) { throw error("leading zeros are not allowed in a number", at: start) }
        } else {
            while let c = current, Self.isDigit(c) { index += 1 }
        }
        if consume(".") {
            guard let c = current, Self.isDigit(c) else { throw error("expected a digit after '.'") }
            while let c = current, Self.isDigit(c) { index += 1 }
        }
        if current == "e" || current == "E" {
            index += 1
            if current == "+" || current == "-" { index += 1 }
            guard let c = current, Self.isDigit(c) else { throw error("expected a digit in the exponent") }
            while let c = current, Self.isDigit(c) { index += 1 }
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[start..<index])
        return JSONNumber(jsonText: String(text))
    }

    mutating func parseFunctionCall() throws(JSONPathError) -> FunctionCall {
        try enter()
        defer { nesting -= 1 }
        let start = index
        var name = String.UnicodeScalarView()
        while let c = current, (c.value >= 0x61 && c.value <= 0x7A) || c == "_" || Self.isDigit(c) {
            name.append(c)
            index += 1
        }
        let nameText = String(name)
        guard current == "(" else { throw error("unexpected '\(nameText)'; string literals need quotes", at: start) }
        guard let function = PathFunction(rawValue: nameText) else {
            let known = PathFunction.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("unknown function '\(nameText)' (known: \(known))", at: start)
        }
        index += 1
        skipBlanks()
        var arguments: [FunctionArgument] = []
        var argumentStarts: [Int] = []
        if current != ")" {
            repeat {
                skipBlanks()
                argumentStarts.append(index)
                let expression = try parseLogicalOr()
                if case .test(let operand, _) = expression {
                    arguments.append(.operand(operand))
                } else {
                    arguments.append(.logical(expression))
                }
                skipBlanks()
            } while consume(",")
        }
        try expect(")", "',' or ')'")
        let parameters = function.parameters
        guard arguments.count == parameters.count else {
            throw error("\(nameText)() takes \(parameters.count) argument\(parameters.count == 1 ? "" : "s"), got \(arguments.count)", at: start)
        }
        for (i, (argument, parameter)) in zip(arguments, parameters).enumerated() {
            try checkArgument(argument, parameter, of: nameText, at: argumentStarts[i])
        }
        var call = FunctionCall(function: function, arguments: arguments, compiledPattern: nil)
        if function == .match || function == .search, case .operand(.literal(.string(let pattern))) = arguments[1] {
            call.compiledPattern = IRegexp(pattern, anchored: function == .match)
        }
        return call
    }

    // MARK: Well-typedness (RFC 9535 section 2.4.3)

    func checkArgument(_ argument: FunctionArgument, _ parameter: PathFunction.ValueKind, of name: String, at position: Int) throws(JSONPathError) {
        switch (parameter, argument) {
        case (.value, .operand(.literal)): return
        case (.value, .operand(.query(let q))):
            if !q.isSingular { throw error("\(name)() needs a single value here; this query is not singular", at: position) }
        case (.value, .operand(.function(let f))):
            if f.function.result != .value { throw error("\(name)() needs a value here; \(f.function.rawValue)() gives a logical result", at: position) }
        case (.value, .logical):
            throw error("\(name)() needs a value here, not a logical expression", at: position)
        case (.nodes, .operand(.query)): return
        case (.nodes, _):
            throw error("\(name)() needs a query here", at: position)
        case (.logical, .logical(let expression)):
            try checkLogical(expression)
        case (.logical, .operand(.query)): return
        case (.logical, .operand(.function(let f))):
            if f.function.result == .value { throw error("\(name)() needs a logical value here", at: position) }
        case (.logical, .operand(.literal)):
            throw error("\(name)() needs a logical value here, not a literal", at: position)
        }
    }

    func checkComparable(_ operand: FilterOperand, at position: Int) throws(JSONPathError) {
        switch operand {
        case .literal: return
        case .query(let q):
            if !q.isSingular { throw error("only singular queries (names and indexes) can be compared", at: position) }
        case .function(let f):
            if f.function.result != .value { throw error("\(f.function.rawValue)() gives a logical result and cannot be compared", at: position) }
        }
    }

    /// A filter's test must be a query or a function of logical or nodes type, never a bare literal.
    func checkLogical(_ expression: FilterExpression) throws(JSONPathError) {
        switch expression {
        case .or(let items), .and(let items):
            for item in items { try checkLogical(item) }
        case .not(let inner): try checkLogical(inner)
        case .comparison: return
        case .test(.query, _): return
        case .test(.literal, let position): throw error("a literal alone is not a test; compare it with something", at: position)
        case .test(.function(let f), let position):
            if f.function.result == .value {
                throw error("\(f.function.rawValue)() gives a value, not a logical result; compare it with something", at: position)
            }
        }
    }
}
