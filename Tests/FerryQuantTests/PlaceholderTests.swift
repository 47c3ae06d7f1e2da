import Testing
@testable import FerryQuant

// Placeholder: replaced by the module's real tests.
@Test func FerryQuantModuleLinks() { _ = FerryQuantModule.self }
