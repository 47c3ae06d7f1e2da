import Testing
@testable import FerryArchive

// Placeholder: replaced by the module's real tests.
@Test func FerryArchiveModuleLinks() { _ = FerryArchiveModule.self }
