import ArgumentParser
import FerryArchive
import FerrySupport

/// The limits that protect `ferry job unpack` and `ferry job inspect` against hostile archives.
struct UnpackLimitOptions: ParsableArguments {
    @Option(name: .customLong("max-entries"),
            help: ArgumentHelp("Refuse archives with more files and folders than this.", valueName: "N"))
    var maxEntries: Int = UnpackLimits.default.maxEntries

    @Option(name: .customLong("max-entry-size"),
            help: ArgumentHelp("Refuse any single file larger than this, e.g. 512MiB. (default: 8GiB)", valueName: "SIZE"),
            transform: UnpackLimitOptions.size)
    var maxEntrySize: Int64 = UnpackLimits.default.maxEntryBytes

    @Option(name: .customLong("max-total-size"),
            help: ArgumentHelp("Refuse archives whose files add up to more than this. (default: 16GiB)", valueName: "SIZE"),
            transform: UnpackLimitOptions.size)
    var maxTotalSize: Int64 = UnpackLimits.default.maxTotalBytes

    @Option(name: .customLong("max-ratio"),
            help: ArgumentHelp("Refuse archives that expand more than RATIO times their compressed size (zip bombs), "
                               + "counted once 32 MiB are expanded.", valueName: "RATIO"))
    var maxRatio: Double = UnpackLimits.default.maxCompressionRatio

    func validate() throws {
        guard maxEntries > 0 else { throw ValidationError("--max-entries must be at least 1") }
        guard maxEntrySize > 0, maxTotalSize > 0 else { throw ValidationError("sizes must be larger than 0") }
        guard maxRatio.isFinite, maxRatio >= 1 else { throw ValidationError("--max-ratio must be a number of at least 1") }
    }

    /// The limits these options describe.
    var limits: UnpackLimits {
        var limits = UnpackLimits.default
        limits.maxEntries = maxEntries
        limits.maxEntryBytes = maxEntrySize
        limits.maxTotalBytes = maxTotalSize
        limits.maxCompressionRatio = maxRatio
        return limits
    }

    private static func size(_ text: String) throws -> Int64 {
        do { return try ByteCount.parse(text) } catch {
            throw ValidationError("invalid size '\(text)'; use a number with a unit, e.g. 512MiB or 8GiB")
        }
    }

    /// The text of the limits paragraph of `--help`.
    static let helpText = """
        Limits (see LIMITS below; raise them only for archives you trust): by \
        default at most \(UnpackLimits.default.maxEntries) files and folders, \
        \(ByteCount.format(UnpackLimits.default.maxEntryBytes)) per file, \
        \(ByteCount.format(UnpackLimits.default.maxTotalBytes)) in all, and an expansion ratio of \
        \(Int(UnpackLimits.default.maxCompressionRatio)):1 once 32 MiB are expanded. Each is checked \
        against the manifest before anything is extracted, and again while the bytes stream.
        """
}
