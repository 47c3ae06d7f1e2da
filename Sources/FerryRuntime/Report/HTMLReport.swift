import Foundation

/// The self-contained HTML report of one or more job runs (`ferry report`): inline CSS and SVG, no
/// script and no network. One run: its summary, a chart per metric (each site and the aggregate per
/// round), the bytes per round in each direction with and without quantization, and the round table.
/// Several runs: first a side-by-side comparison (final metrics, bytes, saving, time, and the aggregate
/// metrics of every run per round), then each run's section. The page comes from a mustache template
/// (``ReportTemplate``), the built-in one unless the user gives their own.
public enum HTMLReport {
    /// The HTML page for `runs` (at least one), rendered with `template`.
    public static func page(runs: [JobRun], generatedAt: Date = Date(), template: ReportTemplate = .builtIn) -> String {
        template.render(ReportPage(runs: runs, generatedAt: generatedAt))
    }
}
