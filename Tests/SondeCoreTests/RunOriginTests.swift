import SondeCore
import Testing

/// Where a run ran, read from the variables each CI provider sets.
struct RunOriginTests {
    @Test func eachProviderIsReadFromItsVariables() {
        let github = RunOrigin.detect(
            environment: [
                "GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/api", "GITHUB_RUN_ID": "42",
                "GITHUB_REF_NAME": "main", "GITHUB_HEAD_REF": "", "GITHUB_SHA": "abc123", "USER": "runner",
            ], host: "fv-az1")
        #expect(github == RunOrigin(host: "fv-az1", user: "runner", ci: .init(provider: "github-actions", jobURL: "https://github.com/acme/api/actions/runs/42", branch: "main", commit: "abc123")))
        // A pull request's branch is its head branch.
        #expect(RunOrigin.detect(environment: ["GITHUB_ACTIONS": "true", "GITHUB_HEAD_REF": "fix", "GITHUB_REF_NAME": "7/merge"], host: nil).ci?.branch == "fix")
        let gitlab = RunOrigin.detect(
            environment: ["GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.com/a/b/-/jobs/9", "CI_COMMIT_REF_NAME": "dev", "CI_COMMIT_SHA": "def"], host: "h",
            user: "u")
        #expect(gitlab.ci == .init(provider: "gitlab-ci", jobURL: "https://gitlab.com/a/b/-/jobs/9", branch: "dev", commit: "def"))
        #expect(gitlab.user == "u")
        let buildkite = RunOrigin.detect(
            environment: ["BUILDKITE": "true", "BUILDKITE_BUILD_URL": "https://buildkite.com/a/b/builds/3", "BUILDKITE_JOB_ID": "j1", "BUILDKITE_BRANCH": "main"],
            host: nil)
        #expect(buildkite.ci == .init(provider: "buildkite", jobURL: "https://buildkite.com/a/b/builds/3#j1", branch: "main", commit: nil))
        let jenkins = RunOrigin.detect(
            environment: ["JENKINS_URL": "https://ci.example/", "BUILD_URL": "https://ci.example/job/api/5/", "GIT_BRANCH": "origin/main", "GIT_COMMIT": "f00"],
            host: nil)
        #expect(jenkins.ci == .init(provider: "jenkins", jobURL: "https://ci.example/job/api/5/", branch: "origin/main", commit: "f00"))
        // No CI; HOSTNAME (a container's) wins over the system's name; empty values are unset.
        let local = RunOrigin.detect(environment: ["HOSTNAME": "box", "USER": "", "LOGNAME": "ada", "GITHUB_ACTIONS": "false"], host: "system")
        #expect(local == RunOrigin(host: "box", user: "ada", ci: nil))
        #expect(local.description == "on box as ada")
    }

    /// A job URL keeps no credential: a password, and parameters of its query or fragment that hold one.
    @Test func aJobURLKeepsNoCredential() {
        #expect(RunOrigin.maskedJobURL("https://ci.example/job/1?private_token=glpat-X&x=1#access_token=abc")
            == "https://ci.example/job/1?private_token=••••••&x=1#access_token=••••••")
        #expect(RunOrigin.maskedJobURL("https://u:p4ss@ci/j?sig=zz&Auth=1") == "https://u:••••••@ci/j?sig=••••••&Auth=••••••")
        #expect(RunOrigin.maskedJobURL("https://ci/j#section") == "https://ci/j#section")
        #expect(RunOrigin.maskedJobURL("https://ci/j?%74oken=abc") == "https://ci/j?%74oken=••••••")
    }
}
