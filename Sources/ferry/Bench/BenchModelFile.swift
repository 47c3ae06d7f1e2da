import FerrySupport
import FerryTensors
/// Model files for the transfer benchmark.
enum BenchModelFile {
    /// Writes an f32 safetensors model of about `bytes` bytes: 64 MiB tensors (4096 × 4096) and a
    /// smaller last one, values uniform in ±0.05 from a fast generator. Returns the tensor count.
    static func write(path: String, bytes: Int64) throws -> Int {
        let rows = 4096, full = Int64(rows * rows * 4)
        var specs = [TensorSpec]()
        var left = bytes / 4 / Int64(rows) * Int64(rows) * 4
        while left > 0 {
            let take = min(left, full)
            specs.append(TensorSpec(name: "layers.\(specs.count).weight", dtype: .f32, shape: [Int(take / 4) / rows, rows]))
            left -= take
        }
        let writer = try SafetensorsWriter(path: path, tensors: specs, metadata: ["format": "pt"])
        let slice = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1 << 20)
        defer { slice.deallocate() }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let display = ProgressDisplay(label: "write model", total: writer.header.dataByteCount)
        var done: Int64 = 0
        while writer.remainingByteCount > 0 {
            let n = Int(min(Int64(slice.count), writer.remainingByteCount / 4))
            for i in 0..<n {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                slice[i] = Float(Int32(truncatingIfNeeded: state >> 32)) * (0.05 / 2_147_483_648)
            }
            try writer.append(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: slice[0..<n])))
            done += Int64(n * 4)
            display.update(done)
        }
        display.finish()
        try writer.commit()
        return specs.count
    }

    /// Whether two files have the same bytes (streamed, 8 MiB at a time).
    static func identical(_ a: String, _ b: String) throws -> Bool {
        guard let fa = try? ReadableFile(path: a), let fb = try? ReadableFile(path: b) else { return false }
        let size = 8 << 20
        let ba = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        let bb = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { ba.deallocate(); bb.deallocate() }
        var offset: Int64 = 0
        while true {
            let na = try fa.read(into: ba, at: offset), nb = try fb.read(into: bb, at: offset)
            guard na == nb else { return false }
            if na == 0 { return true }
            if memcmp(ba.baseAddress!, bb.baseAddress!, na) != 0 { return false }
            offset += Int64(na)
        }
    }
}
