/// Where a run ran: the machine and user, and the CI job when there is one. Read from the
/// process's environment at the start of a run (`detect`), recorded with the run, shown by
/// `sonde history`, `sonde show` and the HTML page. What it holds came from the environment
/// of whoever ran it: shown escaped, like any recorded text.
public struct RunOrigin: Sendable, Hashable {
    public var host: String?
    public var user: String?
    public var ci: CIJob?

    public init(host: String? = nil, user: String? = nil, ci: CIJob? = nil) {
        self.host = host
        self.user = user
        self.ci = ci
    }

    /// A CI job, from the variables its provider sets.
    public struct CIJob: Sendable, Hashable {
        /// `github-actions`, `gitlab-ci`, `jenkins` or `buildkite`.
        public var provider: String
        /// Where the job's page is.
        public var jobURL: String?
        public var branch: String?
        public var commit: String?

        public init(provider: String, jobURL: String? = nil, branch: String? = nil, commit: String? = nil) {
            self.provider = provider
            self.jobURL = jobURL
            self.branch = branch
            self.commit = commit
        }
    }

    /// The origin a process with `environment` has: the host `HOSTNAME` names (containers
    /// set it), else `host` (the system's name); the user `USER` or `LOGNAME` names, else
    /// `user`; and the CI job of the first provider
    /// whose marker is set:
    /// - GitHub Actions (`GITHUB_ACTIONS=true`): `GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`,
    ///   `GITHUB_HEAD_REF` (a pull request's branch) or `GITHUB_REF_NAME`, `GITHUB_SHA`;
    /// - GitLab CI (`GITLAB_CI=true`): `CI_JOB_URL`, `CI_COMMIT_REF_NAME`, `CI_COMMIT_SHA`;
    /// - Buildkite (`BUILDKITE=true`): `BUILDKITE_BUILD_URL` (`#BUILDKITE_JOB_ID`), `BUILDKITE_BRANCH`, `BUILDKITE_COMMIT`;
    /// - Jenkins (`JENKINS_URL` set): `BUILD_URL`, `BRANCH_NAME` or `GIT_BRANCH`, `GIT_COMMIT`.
    /// Empty values count as unset.
    public static func detect(environment: [String: String], host: String?, user: String? = nil) -> RunOrigin {
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        var ci: CIJob?
        if value("GITHUB_ACTIONS") == "true" {
            var url: String?
            if let server = value("GITHUB_SERVER_URL"), let repository = value("GITHUB_REPOSITORY"), let run = value("GITHUB_RUN_ID") {
                url = "\(server)/\(repository)/actions/runs/\(run)"
            }
            ci = CIJob(provider: "github-actions", jobURL: url, branch: value("GITHUB_HEAD_REF") ?? value("GITHUB_REF_NAME"), commit: value("GITHUB_SHA"))
        } else if value("GITLAB_CI") == "true" {
            ci = CIJob(provider: "gitlab-ci", jobURL: value("CI_JOB_URL"), branch: value("CI_COMMIT_REF_NAME"), commit: value("CI_COMMIT_SHA"))
        } else if value("BUILDKITE") == "true" {
            let url = value("BUILDKITE_BUILD_URL").map { build in value("BUILDKITE_JOB_ID").map { "\(build)#\($0)" } ?? build }
            ci = CIJob(provider: "buildkite", jobURL: url, branch: value("BUILDKITE_BRANCH"), commit: value("BUILDKITE_COMMIT"))
        } else if value("JENKINS_URL") != nil {
            ci = CIJob(provider: "jenkins", jobURL: value("BUILD_URL"), branch: value("BRANCH_NAME") ?? value("GIT_BRANCH"), commit: value("GIT_COMMIT"))
        }
        if let url = ci?.jobURL { ci?.jobURL = maskedJobURL(url) }
        return RunOrigin(host: value("HOSTNAME") ?? host.flatMap { $0.isEmpty ? nil : $0 }, user: value("USER") ?? value("LOGNAME") ?? user, ci: ci)
    }

    /// A job URL with its credentials masked: a password (`https://user:token@ci/…`), and the
    /// value of a parameter of its query or fragment that holds one (`?private_token=…`,
    /// `#access_token=…`, `?sig=…`, `?auth=…`, `?password=…`), as recorded and as imported.
    public static func maskedJobURL(_ url: String) -> String {
        let masked = RequestURL.maskingPassword(url)
        // The query's parameters and the fragment's (`#access_token=…`, as OAuth writes it).
        guard let start = masked.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return masked }
        var out = String(masked[..<start])
        var rest = masked[start...]
        while let separator = rest.first {
            rest = rest.dropFirst()
            let end = rest.firstIndex(where: { $0 == "#" && separator == "?" }) ?? rest.endIndex
            let parameters = rest[..<end].split(separator: "&", omittingEmptySubsequences: false).map { parameter -> String in
                let name = (String(parameter).removingPercentEncoding ?? String(parameter)).prefix { $0 != "=" }.lowercased()
                let secret = ["token", "password", "secret", "passwd", "pwd", "key", "sig", "auth", "credential"].contains { name.contains($0) }
                return secret && parameter.contains("=") ? "\(parameter.prefix { $0 != "=" })=\(Redactor.mask)" : String(parameter)
            }
            out += String(separator) + parameters.joined(separator: "&")
            rest = rest[end...]
        }
        return out
    }

    /// `on build-7 as ci` and, in CI, `on build-7 as ci, github-actions job https://…, branch main, commit 1a2b3c4d5e6f`.
    public var description: String {
        var machine: [String] = []
        if let host { machine.append("on \(host)") }
        if let user { machine.append("as \(user)") }
        var parts = machine.isEmpty ? [] : [machine.joined(separator: " ")]
        if let ci {
            parts.append(ci.provider + (ci.jobURL.map { " job \($0)" } ?? ""))
            if let branch = ci.branch { parts.append("branch \(branch)") }
            if let commit = ci.commit { parts.append("commit \(commit.prefix(12))") }
        }
        return parts.joined(separator: ", ")
    }
}
