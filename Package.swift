// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Sonde",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sonde", targets: ["sonde"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Already in the graph through Hummingbird; named here because the mock uses their types.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // SHA-256 from libcrypto (already loaded by libcurl): body, shape and collection hashes.
        .systemLibrary(name: "COpenSSL"),
        // XPath on XML and HTML bodies (Debian's libxml2-dev; the library Hurl uses too).
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // The history on a PostgreSQL server (Debian's libpq-dev): chosen over postgres-nio on
        // measurement (docs/architecture.md): a third of the cost per recorded row, blocking
        // calls that fit the recorder's own thread, and seconds of build instead of minutes.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // The model, JSON, JSONPath, templates, predicates, results, the history port. No I/O,
        // no third-party Swift code. Regular expressions run on ICU's C API (the toolchain's, as
        // Foundation does), for its limits; SHA-256 and MD5 on libcrypto's; XPath on libxml2's.
        .target(name: "SondeCore", dependencies: ["COpenSSL", "CLibXML2"], linkerSettings: [.linkedLibrary("_FoundationICU")]),
        // YAML collections -> validated SondeCore model, with positions; asks libcurl what it
        // can do (HTTP/3, NTLM) to refuse an option this build cannot honour.
        .target(name: "SondeSpec", dependencies: ["SondeCore", "CCurl", .product(name: "Yams", package: "Yams")]),
        // Runs a plan over an HTTPTransport.
        .target(name: "SondeRunner", dependencies: ["SondeCore"]),
        // Typed wrappers over libcurl's variadic C API.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        // The HTTPTransport on libcurl.
        .target(name: "SondeHTTP", dependencies: ["SondeCore", "SondeRunner", "CCurl"]),
        // The history port's implementations: SQLite on GRDB, PostgreSQL on libpq, and in memory.
        .target(
            name: "SondeStore",
            dependencies: ["SondeCore", "CLibPQ", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")]
        ),
        // Results and diagnostics -> text.
        .target(name: "SondeReport", dependencies: ["SondeCore"]),
        // The application: a session runs planned collections over transports, records them in
        // a history and tells listeners; the queries several commands share.
        .target(name: "SondeEngine", dependencies: ["SondeCore", "SondeSpec", "SondeRunner", "SondeStore"]),
        // A KubeSphere-like API for `sonde demo` and the tests.
        .target(
            name: "SondeMock",
            dependencies: [
                "SondeCore", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"), .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .target(
            name: "SondeCLI",
            dependencies: [
                "SondeCore", "SondeSpec", "SondeRunner", "SondeHTTP", "SondeStore", "SondeEngine", "SondeReport", "SondeMock",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "sonde", dependencies: ["SondeCLI"]),
        // `make bench`: speed figures, never a timed test.
        .executableTarget(
            name: "sonde-bench",
            // (SondeTestSupport: the throwaway PostgreSQL cluster of the team history's load.)
            dependencies: [
                "SondeCore", "SondeSpec", "SondeMock", "SondeRunner", "SondeHTTP", "SondeStore", "SondeTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // `make bench`: the raw libcurl loop in C that the runner is measured against.
        .executableTarget(name: "curl-loop", linkerSettings: [.linkedLibrary("curl")]),
        // The fuzz targets (libFuzzer, `make fuzz`), as a library the regression tests replay.
        .target(name: "SondeFuzzTargets", dependencies: ["SondeCore", "SondeSpec"]),
        .executableTarget(name: "sonde-fuzz", dependencies: ["SondeFuzzTargets"]),
        .testTarget(name: "SondeCoreTests", dependencies: ["SondeCore"]),
        .testTarget(name: "SondeSpecTests", dependencies: ["SondeSpec", "SondeCore"], exclude: ["Fixtures"]),
        .testTarget(name: "SondeFuzzTests", dependencies: ["SondeFuzzTargets"], exclude: ["Regressions"]),
        // Helpers the test targets share.
        .target(name: "SondeTestSupport", path: "Tests/SondeTestSupport"),
        .testTarget(name: "SondeRunnerTests", dependencies: ["SondeRunner", "SondeHTTP", "SondeMock", "SondeSpec", "SondeCore", "SondeReport", "SondeTestSupport"]),
        // The runner and the session over ScriptedTransport and InMemoryHistory: no libcurl, no network.
        .testTarget(name: "SondeRunnerUnitTests", dependencies: ["SondeRunner", "SondeSpec", "SondeCore", "SondeEngine", "SondeStore"]),
        .testTarget(name: "SondeStoreTests", dependencies: ["SondeStore", "SondeRunner", "SondeHTTP", "SondeMock", "SondeSpec", "SondeCore", "SondeReport", "SondeTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        // Yams reads TAP's YAML blocks back, as a TAP consumer would.
        .testTarget(
            name: "SondeReportTests", dependencies: ["SondeReport", "SondeCore", "SondeTestSupport", .product(name: "Yams", package: "Yams")],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "SondeCLITests", dependencies: ["SondeCLI", "sonde", "SondeMock", "SondeStore", "SondeTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Goldens"]),
    ]
)
