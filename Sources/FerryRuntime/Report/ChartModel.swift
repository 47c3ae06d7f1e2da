/// What one chart gives the report template: a title, the SVG markup of the plot and a legend that the
/// template lays out in HTML (so labels wrap and are never cut).
struct ReportChart {
    /// The chart's title, e.g. `loss per round`.
    let title: String
    /// The inline `<svg>` of the plot (markup, for `{{{svg}}}`); empty when there is nothing to plot.
    let svg: String
    /// One entry per series, in drawing order.
    let legend: [ReportLegendItem]
    /// Whether the chart has any point.
    let hasData: Bool
}

/// One legend entry: the series' full label, its colour and a small SVG sample of its line or bar.
struct ReportLegendItem {
    /// The series' label, whole.
    let label: String
    /// The CSS colour of the series.
    let color: String
    /// Whether the series is drawn dashed (the aggregate).
    let dashed: Bool
    /// An inline `<svg>` sample of the line and marker (markup, for `{{{swatch}}}`).
    let swatch: String
}

/// The values the internal SVG template draws: everything is already in SVG user units.
struct ChartSVGModel {
    struct Tick {
        let x: String, y: String, text: String
    }
    struct GridLine {
        let x1: String, x2: String, y: String
        let labelX: String, labelY: String, text: String
    }
    struct Marker {
        let d: String, fill: String, stroke: String, title: String
    }
    struct Line {
        let color: String, width: String, dash: String?, points: String
        let markers: [Marker]
    }
    struct Bar {
        let x: String, y: String, width: String, height: String, color: String, title: String
    }

    let width: String, height: String, title: String
    let plotLeft: String, plotRight: String, plotTop: String, plotBottom: String
    let grid: [GridLine]
    let xTicks: [Tick]
    let xLabel: Tick
    let bars: [Bar]
    let lines: [Line]
}
