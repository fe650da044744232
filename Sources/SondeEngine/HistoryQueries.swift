import SondeCore

/// Questions several commands ask of a history, answered once: `diff`, `report` and `run
/// --compare` pair runs the same way.
public struct HistoryQueries: Sendable {
    public let history: any RunHistory

    public init(_ history: any RunHistory) { self.history = history }

    /// Per collection and environment the filter matches, the diff of its last two complete
    /// runs; `single` lists those recorded complete only once (nothing to compare).
    public func latestChanges(_ filter: RunFilter, thresholds: RunDiff.Thresholds = RunDiff.Thresholds()) throws(HistoryError) -> (
        diffs: [RunDiff], single: [RunRecord]
    ) {
        var diffs: [RunDiff] = []
        var single: [RunRecord] = []
        for group in try history.latestRuns(filter) {
            if group.count == 2 {
                diffs.append(RunDiff(old: group[0], new: group[1], thresholds: thresholds))
            } else if let only = group.first {
                single.append(only)
            }
        }
        return (diffs, single)
    }

    /// `run` against the previous complete run of its collection in the same environment.
    public func comparison(of run: RunRecord, thresholds: RunDiff.Thresholds) throws(HistoryError) -> CollectionOutcome.Comparison {
        guard let previous = try history.previousRun(before: run) else { return .firstRun }
        return .diff(RunDiff(old: previous, new: run, thresholds: thresholds))
    }
}
