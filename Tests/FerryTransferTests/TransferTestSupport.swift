import FerrySupport
import FerryTensors
import Foundation
import Testing
@testable import FerryTransfer

/// A temporary folder with an inbox, an output folder and helpers; removed when dropped.
final class TransferSandbox {
    let root: String
    var inbox: String { root + "/inbox" }
    var out: String { root + "/out" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-transfer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/inbox", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Creates an extra folder under the root.
    func folder(_ name: String) throws -> String {
        let path = root + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes `count` deterministic pseudo-random bytes to `name`.
    @discardableResult
    func writeBytes(_ name: String, count: Int, seed: UInt64 = 1) throws -> String {
        var g = SplitMix(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: g.next() >> 13) }
        let path = root + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Writes a small f32 safetensors model: a few small tensors and one larger than `large` bytes.
    @discardableResult
    func writeModel(_ name: String, seed: UInt64 = 7) throws -> String {
        let specs = [
            TensorSpec(name: "embed.weight", dtype: .f32, shape: [64, 96]),
            TensorSpec(name: "layer.0.bias", dtype: .f32, shape: [96]),
            TensorSpec(name: "layer.0.norm", dtype: .f32, shape: [96]),
            TensorSpec(name: "layer.0.weight", dtype: .f32, shape: [96, 96]),
            TensorSpec(name: "layer.1.bias", dtype: .f16, shape: [96]),
            TensorSpec(name: "layer.1.weight", dtype: .f32, shape: [96, 128]),
            TensorSpec(name: "head.weight", dtype: .f32, shape: [128, 10]),
            TensorSpec(name: "step", dtype: .i64, shape: []),
        ]
        let path = root + "/" + name
        let writer = try SafetensorsWriter(path: path, tensors: specs, metadata: ["format": "pt"])
        var g = SplitMix(seed: seed)
        for spec in specs {
            let count = spec.shape.reduce(1, *)
            switch spec.dtype {
            case .f32:
                try writer.append(contentsOf: (0..<count).map { _ in Float(g.normal() * 0.02) })
            case .f16:
                try writer.append(contentsOf: (0..<count).map { _ in Float16(g.normal() * 0.02) })
            default:
                try writer.append(contentsOf: [Int64(42)])
            }
        }
        try writer.commit()
        return path
    }

    /// The transfer folders in `inbox` (32-hex names).
    func transferFolders(in inbox: String? = nil) -> [String] {
        let dir = inbox ?? self.inbox
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { TransferID(hex: $0) != nil }.sorted().map { dir + "/" + $0 }
    }

    /// Files in `dir`, sorted.
    func files(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    func data(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
}

/// Runs a sender on a background thread; `wait()` returns its summary or error.
final class BackgroundSender: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome: Result<TransferSummary, Error>?

    init(_ sender: TransferSender) {
        Thread {
            let r = Result { try sender.run() }
            self.outcome = r
            self.done.signal()
        }.start()
    }

    /// Waits for the sender; `seconds` is only a failsafe against a hang (nil then).
    func wait(seconds: Double = failsafeSeconds) -> Result<TransferSummary, Error>? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        return outcome
    }
}

/// How long a test waits for something that must happen before it gives up: a failsafe against a hang,
/// never a synchronisation (a loaded machine may stall a process for tens of seconds).
let failsafeSeconds: Double = 300

/// An expiry that cannot fire during a test. Expiry is measured from the last activity on the wall
/// clock: a slow fsync or a stalled process on a loaded machine must not expire a transfer (or make a
/// sender give up) in a test that is not about expiry.
let neverExpires: Duration = .seconds(24 * 3600)

/// The X25519 key the tests seal their transfers to (``testOptions()`` transfers are sealed: give
/// senders `recipients: [testRecipient.publicKey]` and receivers `decryptionKey: testRecipient`).
let testRecipient = TransferDecryptionKey.generate()

/// Runs a sender that finds no receiver and gives up after 300 ms, as if killed: its resume state, the
/// manifest and the chunks its window allowed stay. Returns the transfer folder.
func abandonedSend(_ box: TransferSandbox, source: String, options: TransferOptions) throws -> String {
    var lonely = options
    lonely.expire = .milliseconds(300)
    _ = BackgroundSender(TransferSender(source: source, inboxes: [box.inbox], options: lonely,
                                        recipients: [testRecipient.publicKey])).wait()
    return try #require(box.transferFolders().first)
}

/// Fast test options: small chunks, short poll interval, no expiry, sealed.
func testOptions(chunk: Int = 16 << 10, window: Int = 3) -> TransferOptions {
    var options = TransferOptions()
    options.chunkSize = chunk
    options.window = window
    options.pollInterval = .milliseconds(5)
    options.expire = neverExpires
    return options
}

/// ``testOptions(chunk:window:)`` for unencrypted (protocol version 1) transfers, allowed on both sides:
/// the tests of version 1's own checks (its chunk digests) build on these.
func unencryptedOptions(chunk: Int = 16 << 10, window: Int = 3) -> TransferOptions {
    var options = testOptions(chunk: chunk, window: window)
    options.encryption = .none
    return options
}

/// Polls `condition` every few milliseconds until it holds (false after the failsafe `seconds`).
@discardableResult
func eventually(seconds: Double = failsafeSeconds, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(2_000)
    }
    return condition()
}

/// Runs receiver passes, `pause` apart, until one completes or refuses a transfer (the failsafe
/// `seconds` at most). Over a share each pass reads through the mount: give it a longer pause.
func receiveOne(_ receiver: TransferReceiver, seconds: Double = failsafeSeconds,
                pause: useconds_t = 2_000) throws -> ReceivePass {
    let deadline = Date().addingTimeInterval(seconds)
    var all = ReceivePass()
    while Date() < deadline {
        let pass = try receiver.poll()
        all.completed += pass.completed
        all.failed += pass.failed
        all.expired += pass.expired
        if !all.completed.isEmpty || !all.failed.isEmpty { return all }
        usleep(pause)
    }
    return all
}

/// A small deterministic generator.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func normal() -> Double {
        let u1 = Double(next() >> 11) / Double(1 << 53) + 1e-12
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
