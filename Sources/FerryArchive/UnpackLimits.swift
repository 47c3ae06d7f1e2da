/// Limits that protect unpack (and inspect) against hostile archives. Each is checked while
/// streaming, before the bytes past the limit are written anywhere.
public struct UnpackLimits: Sendable, Equatable {
    /// Most entries (files and directories, manifest excluded).
    public var maxEntries: Int
    /// Largest single file, in bytes.
    public var maxEntryBytes: Int64
    /// Largest total of all file sizes, in bytes.
    public var maxTotalBytes: Int64
    /// Largest ratio of expanded bytes to compressed bytes read, once more than
    /// ``ratioGraceBytes`` have been expanded.
    public var maxCompressionRatio: Double
    /// Expanded bytes allowed before ``maxCompressionRatio`` applies (small files compress well).
    public var ratioGraceBytes: Int64

    /// Creates limits; the defaults are those of ``default``.
    public init(maxEntries: Int = 10_000,
                maxEntryBytes: Int64 = 8 << 30,
                maxTotalBytes: Int64 = 16 << 30,
                maxCompressionRatio: Double = 200,
                ratioGraceBytes: Int64 = 32 << 20) {
        self.maxEntries = maxEntries
        self.maxEntryBytes = maxEntryBytes
        self.maxTotalBytes = maxTotalBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.ratioGraceBytes = ratioGraceBytes
    }

    /// 10,000 entries, 8 GiB per file, 16 GiB in all, ratio 200:1 after the first 32 MiB.
    public static let `default` = UnpackLimits()
}
