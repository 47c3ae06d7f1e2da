import Testing
@testable import FerryWorkspace

// Placeholder: replaced by the module's real tests.
@Test func FerryWorkspaceModuleLinks() { _ = FerryWorkspaceModule.self }
