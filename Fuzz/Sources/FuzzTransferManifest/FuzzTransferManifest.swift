import FuzzSupport
import FerryTransfer
import Foundation

/// The transfer folder name every input is dropped into (a valid 32-hex transfer id).
let transferID = "0123456789abcdef0123456789abcdef"
/// Chunk files start with this magic; the input is split at its first occurrence.
let chunkMagic = Array("FRYCHNK1".utf8)

/// libFuzzer entry point: the input is a transfer folder. The bytes before the first `FRYCHNK1` are
/// `manifest.json`; from there on, `chunk-000001`. One receiver pass must complete, refuse the transfer
/// with a reason, or wait for more; never crash, and never write outside its output folder.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTransferManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var split = bytes.count
    if bytes.count >= chunkMagic.count {
        for i in 0...(bytes.count - chunkMagic.count) where bytes[i..<(i + chunkMagic.count)].elementsEqual(chunkMagic) {
            split = i
            break
        }
    }
    let root = NSTemporaryDirectory() + "ferry-fuzz-transfer-\(getpid())"
    let inbox = root + "/inbox"
    let out = root + "/out"
    let dir = inbox + "/" + transferID
    let fm = FileManager.default
    try? fm.removeItem(atPath: root)
    defer { try? fm.removeItem(atPath: root) }
    do {
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Data(bytes[0..<split]).write(to: URL(fileURLWithPath: dir + "/manifest.json"))
        if split < bytes.count {
            try Data(bytes[split...]).write(to: URL(fileURLWithPath: dir + "/chunk-000001"))
        }
    } catch {
        fatalError("fuzz harness cannot set up \(root): \(error)")
    }
    let receiver = TransferReceiver(inbox: inbox, outputDirectory: out)
    _ = try? receiver.poll()
    // Whatever the input, nothing may appear next to inbox/ and out/.
    let top = (try? fm.contentsOfDirectory(atPath: root)) ?? []
    if Set(top) != ["inbox", "out"] { fatalError("receiver wrote outside its folders: \(top)") }
    return 0
}

/// The entry point SwiftPM links as `main`: libFuzzer's driver on ``fuzzTransferManifest(_:_:)``.
@_cdecl("FuzzTransferManifest_main")
public func fuzzTransferManifestMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzzTransferManifest)
}
