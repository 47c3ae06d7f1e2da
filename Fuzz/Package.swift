// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for ferry's parsers of untrusted bytes. Not part of the main build: an executable
// that defines `LLVMFuzzerTestOneInput` only links with `-sanitize=fuzzer`. Build and run them with
// `scripts/fuzz.sh [SECONDS]` (see docs/reliability.md).
let package = Package(
    name: "ferry-fuzz",
    dependencies: [
        .package(name: "ferry", path: ".."),
    ],
    targets: [
        // Hands each target's entry point to libFuzzer's driver.
        .target(name: "FuzzSupport"),
        // The safetensors header parser (8-byte length + JSON header + validation).
        .executableTarget(
            name: "FuzzSafetensorsHeader",
            dependencies: ["FuzzSupport", .product(name: "FerryTensors", package: "ferry")]
        ),
        // The job and app YAML loaders (limits, keys, types, placeholders).
        .executableTarget(
            name: "FuzzJobYAML",
            dependencies: ["FuzzSupport", .product(name: "FerryJobs", package: "ferry")]
        ),
        // The transfer manifest parser and the receiver's checks of a transfer folder.
        .executableTarget(
            name: "FuzzTransferManifest",
            dependencies: ["FuzzSupport", .product(name: "FerryTransfer", package: "ferry")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
