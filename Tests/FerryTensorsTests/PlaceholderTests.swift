import Testing
@testable import FerryTensors

// Placeholder: replaced by the module's real tests.
@Test func FerryTensorsModuleLinks() { _ = FerryTensorsModule.self }
