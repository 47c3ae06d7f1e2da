import Testing
@testable import FerryTransfer

// Placeholder: replaced by the module's real tests.
@Test func FerryTransferModuleLinks() { _ = FerryTransferModule.self }
