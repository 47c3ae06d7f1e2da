import Testing
@testable import FerryRuntime

// Placeholder: replaced by the module's real tests.
@Test func FerryRuntimeModuleLinks() { _ = FerryRuntimeModule.self }
