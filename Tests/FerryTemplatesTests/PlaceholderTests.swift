import Testing
@testable import FerryTemplates

// Placeholder: replaced by the module's real tests.
@Test func FerryTemplatesModuleLinks() { _ = FerryTemplatesModule.self }
