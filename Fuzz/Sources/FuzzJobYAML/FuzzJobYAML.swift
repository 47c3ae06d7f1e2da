import FuzzSupport
import FerryJobs

/// libFuzzer entry point: the input is the text of a `job.yaml` (and, separately, of an `app.yaml`).
/// Decoding must end in a definition or a `JobValidationFailure`; never a crash, a hang past the YAML
/// limits, or unbounded memory (alias bombs, deep nesting, huge scalars).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJobYAML(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? JobYAML.decodeJob(bytes, file: "job.yaml")
    _ = try? JobYAML.decodeApp(bytes, file: "apps/app/app.yaml", jobMinClients: 2)
    return 0
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver on ``fuzzJobYAML(_:_:)``.
@_cdecl("FuzzJobYAML_main")
public func fuzzJobYAMLMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzzJobYAML)
}
