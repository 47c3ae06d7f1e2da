import FerrySupport

/// A progress display on standard error that appears only for work of at least `minimumTotal` bytes,
/// and never with `--quiet`: a bar on a terminal, a plain line every few seconds otherwise.
final class LazyProgress {
    private let label: String
    private let quiet: Bool
    private let minimumTotal: Int64
    private var display: ProgressDisplay?

    /// - Parameter minimumTotal: smaller work shows nothing (default 16 MiB, for `ferry job pack`,
    ///   `inspect` and `unpack`; a transfer shows progress whatever its size).
    init(label: String, quiet: Bool, minimumTotal: Int64 = 16 << 20) {
        self.label = label
        self.quiet = quiet
        self.minimumTotal = minimumTotal
    }

    func update(_ done: Int64, total: Int64) {
        guard !quiet else { return }
        if display == nil, total >= minimumTotal { display = ProgressDisplay(label: label, total: total) }
        display?.update(done)
    }

    func finish() { display?.finish() }
}
