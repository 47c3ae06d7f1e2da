// swift-tools-version:6.1
import PackageDescription

// Dependencies flow one way:
//   ferry (CLI) → FerryRuntime → FerryWorkspace / FerryTemplates / FerryExecutor
//     → FerryJobs / FerryArchive → FerryTransfer / FerryAggregation → FerryQuant → FerryTensors → FerrySupport
let package = Package(
    name: "ferry",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ferry", targets: ["ferry"]),
        .executable(name: "ferry-example-trainer", targets: ["ferry-example-trainer"]),
        // Parsers of untrusted bytes, exposed for the libFuzzer targets in Fuzz/ (scripts/fuzz.sh).
        .library(name: "FerryTensors", targets: ["FerryTensors"]),
        .library(name: "FerryJobs", targets: ["FerryJobs"]),
        .library(name: "FerryTransfer", targets: ["FerryTransfer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // System libraries
        .systemLibrary(
            name: "CLibArchive",
            pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"]), .brew(["libarchive"])]
        ),

        // System calls Swift's Glibc module does not export (sync_file_range).
        .target(name: "CFerrySystem"),
        // Bottom layer: the one file layer (swift-system), atomic files, hashing, hex, timestamps,
        // change waiting, byte streams, sizes and durations, terminal progress.
        .target(
            name: "FerrySupport",
            dependencies: [
                "CFerrySystem",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // Job folders, YAML, validation (templates live in FerryTemplates). Jobs name the transfer
        // modes and quantization formats of the modules that own them.
        .target(
            name: "FerryJobs",
            dependencies: ["FerrySupport", "FerryQuant", "FerryTransfer", "FerryAggregation", .product(name: "Yams", package: "Yams")]
        ),
        // Reproducible pack, inspect, safe unpack (libarchive).
        .target(
            name: "FerryArchive",
            dependencies: ["FerrySupport", "CLibArchive", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Safetensors streaming reader/writer, synthetic models.
        .target(
            name: "FerryTensors",
            dependencies: ["FerrySupport"]
        ),
        // SIMD kernels for the quantization codecs (C, runtime CPU dispatch).
        .target(
            name: "CFerryQuantKernels",
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        // Quantization codecs and the quantized-model format.
        .target(
            name: "FerryQuant",
            dependencies: ["FerrySupport", "FerryTensors", "CFerryQuantKernels"]
        ),
        // Chunked streaming between folders, inline filters.
        .target(
            name: "FerryTransfer",
            dependencies: [
                "FerrySupport", "FerryTensors", "FerryQuant",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Provisioning, keys, job store.
        .target(
            name: "FerryWorkspace",
            dependencies: [
                "FerrySupport", "FerryJobs", "FerryArchive",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Job templates and sweeps.
        .target(
            name: "FerryTemplates",
            dependencies: [
                "FerrySupport", "FerryJobs",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The aggregators' hot loops (C, -O3 in every configuration, no FMA contraction: exact).
        .target(
            name: "CFerryAggregationKernels",
            cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off", "-fno-math-errno"])]
        ),
        // Streaming weighted averaging of client models, and of their metrics.
        .target(
            name: "FerryAggregation",
            dependencies: ["FerrySupport", "FerryTensors", "FerryQuant", "CFerryAggregationKernels"]
        ),
        // Running a task's training program: the child process, its gate, output, result and leftovers.
        .target(
            name: "FerryExecutor",
            dependencies: ["FerrySupport", "FerryJobs"]
        ),
        // Watcher, server and client roles, workflows, messages, local federation, reports.
        .target(
            name: "FerryRuntime",
            dependencies: [
                "FerrySupport", "FerryJobs", "FerryArchive", "FerryTensors", "FerryQuant",
                "FerryTransfer", "FerryWorkspace", "FerryAggregation", "FerryExecutor",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The command-line tool.
        .executableTarget(
            name: "ferry",
            dependencies: [
                "FerrySupport", "FerryJobs", "FerryArchive", "FerryTensors", "FerryQuant",
                "FerryTransfer", "FerryWorkspace", "FerryTemplates", "FerryAggregation", "FerryExecutor", "FerryRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The example trainer used by jobs/hello-fedavg (a client executor).
        .executableTarget(
            name: "ferry-example-trainer",
            dependencies: ["FerrySupport", "FerryTensors"]
        ),

        .testTarget(name: "FerrySupportTests", dependencies: ["FerrySupport"]),
        .testTarget(name: "FerryJobsTests", dependencies: ["FerryJobs"]),
        .testTarget(name: "FerryArchiveTests", dependencies: ["FerryArchive", "CLibArchive", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "FerryTensorsTests", dependencies: ["FerryTensors"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FerryQuantTests", dependencies: ["FerryQuant", "FerryTensors", "FerrySupport"], resources: [.copy("Fixtures")]),
        // The real network share of the tests (scripts/share.sh), shared by the test targets that use it.
        .target(name: "FerryShareHarness", path: "Tests/Support/FerryShareHarness"),
        .testTarget(name: "FerryTransferTests", dependencies: ["FerryTransfer", "FerryQuant", "FerryTensors", "FerrySupport", "FerryShareHarness"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "FerryWorkspaceTests", dependencies: ["FerryWorkspace", "FerryArchive", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "FerryTemplatesTests", dependencies: ["FerryTemplates", "FerryJobs", "FerryQuant"]),
        .testTarget(name: "FerryAggregationTests", dependencies: ["FerryAggregation", "FerryTensors"]),
        .testTarget(name: "FerryRuntimeTests", dependencies: ["FerryRuntime", "FerryWorkspace", "FerryTensors", "FerryTransfer", "FerryExecutor", "FerryArchive", "FerryJobs", "FerryShareHarness"]),
        // End-to-end tests that run the built `ferry` binary.
        .testTarget(name: "FerryCLITests", dependencies: ["FerrySupport", "FerryShareHarness"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
