/// The libFuzzer callback type: one input, returns 0.
public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: FuzzCallback) -> Int32

/// Runs libFuzzer's driver (command-line flags, corpus, mutation loop) on `callback`.
///
/// SwiftPM links a debug executable with `main` aliased to `<Target>_main` (so tests can import it),
/// which keeps libFuzzer's own `main` out of the link; each target therefore defines `<Target>_main`
/// and hands over to the driver here.
public func runFuzzer(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ callback: FuzzCallback) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
