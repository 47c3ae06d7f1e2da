import FuzzSupport
import FerryTensors

/// libFuzzer entry point: the input is the start of a safetensors file. The parser must either
/// return a header whose tensors lie inside the file or throw a `SafetensorsError`; it must never
/// crash, trap on overflow or read out of bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensorsHeader(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    // As a file of exactly these bytes: the data section must be covered by the tensors.
    if let header = try? SafetensorsHeader.parse(bytes, fileSize: Int64(size), source: "fuzz") {
        _ = header.tensors.count
    }
    // As a stream whose size is unknown.
    _ = try? SafetensorsHeader.parse(bytes, fileSize: nil, source: "fuzz")
    return 0
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver on ``fuzzSafetensorsHeader(_:_:)``.
@_cdecl("FuzzSafetensorsHeader_main")
public func fuzzSafetensorsHeaderMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzzSafetensorsHeader)
}
