import Testing
@testable import FerryTemplates

// Placeholder until the templates module lands (issue 7).
@Test func templatesModuleLinks() { _ = FerryTemplatesModule.self }
