/// Run history in SQLite (issue: History). The schema and queries arrive with `sonde history`.
public enum SondeStore {
    /// Where runs are recorded unless `--db` or `SONDE_DB` says otherwise.
    public static let defaultPath = ".sonde/history.sqlite"
}
