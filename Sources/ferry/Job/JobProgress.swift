import FerrySupport

/// The progress display of `ferry job pack`, `inspect` and `unpack`: it appears only for work big enough to
/// need one (16 MiB or more), on standard error, and never with `--quiet`.
final class LazyProgress {
    private let label: String
    private let quiet: Bool
    private var display: ProgressDisplay?

    init(label: String, quiet: Bool) {
        self.label = label
        self.quiet = quiet
    }

    func update(_ done: Int64, total: Int64) {
        guard !quiet else { return }
        if display == nil, total >= 16 << 20 { display = ProgressDisplay(label: label, total: total) }
        display?.update(done)
    }

    func finish() { display?.finish() }
}
