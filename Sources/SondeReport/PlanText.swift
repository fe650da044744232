import SondeCore

/// A plan as `sonde validate` and `sonde run --dry-run` print it: each step with where it
/// comes from, how it loops, what it needs from earlier steps and why a selection added it.
/// Nothing in it is sent or rendered: templates are shown as written.
///
///     kubesphere-smoke  collections/kubesphere.yaml, 3 steps
///       setup
///         1  login/login  POST /kapis/iam.kubesphere.io/v1alpha2/login
///              common/login.yaml:9:5, included at collections/kubesphere.yaml:12:5
///              captures token (exported)
///       requests
///         2  component statuses  GET /api/v1/componentstatuses
///              collections/kubesphere.yaml:20:5
///              needs token, from login/login
public enum PlanText {
    /// The plan; `limit`: at most that many steps, then a line that says how many more.
    /// `header`: the first line (the collection, its file and its number of steps).
    public static func render(_ plan: RunPlan, limit: Int = .max, header: Bool = true) -> String {
        let count = plan.steps.count
        var out = ""
        if header {
            out = "\(TerminalText.escape(plan.collection.name))  \(TerminalText.escape(plan.collection.file)), \(count) step\(count == 1 ? "" : "s")"
            if !plan.selection.isEmpty { out += " (selected: \(TerminalText.escape(plan.selection.joined(separator: " "))))" }
            out += "\n"
        }
        var phase: Phase?
        let width = String(count).count
        let captures = plan.captureIndex()
        for (index, step) in plan.steps.enumerated() {
            if index >= limit {
                out += "  … \(count - index) more step\(count - index == 1 ? "" : "s") (sonde run --dry-run shows them all)\n"
                break
            }
            if step.phase != phase {
                phase = step.phase
                out += "  \(step.phase == .main ? "requests" : step.phase.rawValue)\n"
            }
            let number = String(index + 1)
            let pad = String(repeating: " ", count: width - number.count)
            let request = step.request
            out += "    \(pad)\(number)  \(TerminalText.escape(step.name))  \(TerminalText.escape(request.method)) \(TerminalText.escape(request.url.source))\n"
            let indent = "    " + String(repeating: " ", count: width) + "  "
            var lines: [String] = []
            var from = "\(step.location)"
            if let first = step.includedFrom.first {
                from += ", included at \(first)"
                if step.includedFrom.count > 1 { from += " (" + step.includedFrom.dropFirst().map { "from \($0)" }.joined(separator: ", ") + ")" }
            }
            lines.append(from)
            if let reason = step.addedBecause { lines.append("added: \(reason)") }
            if let loop = request.loop {
                var line: String
                switch loop.items {
                case .count(let times): line = "repeat \(times) time\(times == 1 ? "" : "s"), as \(loop.binding) (1 to \(times))"
                case .data(let file, let rows): line = "for each \(loop.binding) of \(file) (\(rows.count) row\(rows.count == 1 ? "" : "s"))"
                case .list(let values): line = "for each \(loop.binding) of \(values.count) item\(values.count == 1 ? "" : "s") in the file"
                case .template(let template): line = "for each \(loop.binding) of \(template.source)"
                }
                if let key = loop.key { line += ", named by \(key.source)" }
                lines.append(line)
            }
            if let polling = request.repeatUntil {
                let checks = polling.expectations.count
                lines.append("repeat until \(checks == 1 ? "its check holds" : "its \(checks) checks hold"), at most \(polling.max) times, every \(polling.delay)")
            }
            var needs: [String] = []
            var seen = Set<String>()
            for (name, scope) in plan.namesRead(by: index) where seen.insert(name).inserted {
                if let provider = captures.provider(of: name, in: scope, before: index) { needs.append("\(name), from \(plan.steps[provider].name)") }
            }
            if !needs.isEmpty { lines.append("needs " + needs.joined(separator: "; ")) }
            if !request.captures.isEmpty {
                let exports = plan.scopes.indices.contains(step.scope) ? plan.scopes[step.scope].exports : []
                lines.append("captures " + request.captures.map { $0.name + (exports.contains($0.name) ? " (exported)" : "") }.joined(separator: ", "))
            }
            if !step.tags.isEmpty { lines.append("tags: " + step.tags.joined(separator: ", ")) }
            for line in lines { out += indent + TerminalText.escape(line) + "\n" }
        }
        return out
    }
}
