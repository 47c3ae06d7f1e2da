import FerrySupport
import Foundation

/// Inline SVG charts for the HTML report (no scripts, no network): line charts of a metric per round and
/// grouped bar charts of bytes per round. The plot is SVG; the legend is returned separately for the page
/// template to lay out in HTML, where long labels wrap instead of being cut.
enum SVGChart {
    /// A named series of (x, y) points and how it is drawn.
    struct Series {
        var label: String
        var points: [(x: Double, y: Double)]
        var style: Style
    }

    /// How a series is drawn.
    enum Style {
        /// The n-th of several peers (sites, jobs): a solid line, its own colour and marker shape.
        case peer(Int)
        /// The aggregate over the peers: dark, dashed, hollow markers, drawn under the peers so it hides none.
        case aggregate
        /// A bar colour.
        case bar(String)
    }

    /// Distinct colours (Tableau 10) for peers.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
    static let aggregateColor = "#1e293b"

    private static let width = 560.0, height = 260.0
    private static let top = 14.0, bottom = 40.0, right = 16.0

    /// A line chart of `series` over whole-number x values (rounds).
    /// `markers: false` draws the lines alone (long per-step curves).
    static func lines(title: String, series: [Series], xLabel: String = "round", markers drawMarkers: Bool = true) -> ReportChart {
        let all = series.flatMap(\.points)
        guard let xMin = all.map(\.x).min(), let xMax = all.map(\.x).max(),
              var y0 = all.map(\.y).min(), var y1 = all.map(\.y).max() else {
            return ReportChart(title: title, svg: "", legend: [], hasData: false)
        }
        if y1 - y0 < 1e-12 * max(1, abs(y1)) { y0 -= max(0.5, abs(y0) * 0.1); y1 += max(0.5, abs(y1) * 0.1) }
        let pad = (y1 - y0) * 0.08
        let axis = Axis(from: y0 - pad, to: y1 + pad)
        let xPad = xMax > xMin ? max(0.2, (xMax - xMin) * 0.04) : 0.5
        let (x0, x1) = (xMin - xPad, xMax + xPad)
        let left = leftMargin(axis.labels)
        let px = { (x: Double) in left + (x - x0) / (x1 - x0) * (width - left - right) }
        let py = axis.position(top: top, bottom: height - bottom)

        let step = max(1, ((xMax - xMin) / 10).rounded(.up))
        let xTicks = stride(from: xMin, through: xMax, by: step).map {
            ChartSVGModel.Tick(x: fmt(px($0)), y: fmt(height - bottom + 16), text: "\(Int($0))")
        }
        // The aggregate first, so every peer line and marker lies on top of it.
        let ordered = series.filter { if case .aggregate = $0.style { true } else { false } }
            + series.filter { if case .aggregate = $0.style { false } else { true } }
        let lines = ordered.map { s in
            let look = Look(s.style)
            let markers = !drawMarkers ? [] : s.points.map { p in
                ChartSVGModel.Marker(d: look.marker.path(x: px(p.x), y: py(p.y), size: look.markerSize),
                                     fill: look.hollow ? "#ffffff" : look.color, stroke: look.color,
                                     title: "\(s.label), \(xLabel) \(Int(p.x)): \(ReportFormat.metric(p.y))")
            }
            return ChartSVGModel.Line(color: look.color, width: fmt(look.lineWidth), dash: look.dash,
                                      points: s.points.map { "\(fmt(px($0.x))),\(fmt(py($0.y)))" }.joined(separator: " "),
                                      markers: markers)
        }
        let model = frame(title: title, left: left, axis: axis, py: py, xTicks: xTicks, xLabel: xLabel, bars: [], lines: lines)
        return ReportChart(title: title, svg: ChartTemplate.svg.render(model), legend: series.map(legendItem), hasData: true)
    }

    /// Grouped bars: for each x (round), one bar per series; `unit` scales the y axis (bytes).
    static func bars(title: String, series: [Series], xLabel: String = "round") -> ReportChart {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return ReportChart(title: title, svg: "", legend: [], hasData: false) }
        let xs = Array(Set(all.map(\.x))).sorted()
        let peak = max(all.map(\.y).max() ?? 0, 1)
        let unit = ByteUnit(peak)
        let axis = Axis(from: 0, to: peak * 1.08, scale: unit.divisor, suffix: " " + unit.name)
        let left = leftMargin(axis.labels)
        let py = axis.position(top: top, bottom: height - bottom)
        let slot = (width - left - right) / Double(xs.count)
        let barWidth = slot * 0.8 / Double(max(series.count, 1))
        let xTicks = xs.enumerated().map { j, x in
            ChartSVGModel.Tick(x: fmt(left + slot * (Double(j) + 0.5)), y: fmt(height - bottom + 16), text: "\(Int(x))")
        }
        var bars: [ChartSVGModel.Bar] = []
        for (i, s) in series.enumerated() {
            let color = Look(s.style).color
            for p in s.points {
                guard let j = xs.firstIndex(of: p.x) else { continue }
                let x = left + slot * Double(j) + slot * 0.1 + barWidth * Double(i)
                bars.append(.init(x: fmt(x), y: fmt(py(p.y)), width: fmt(max(barWidth - 1, 1)), height: fmt(py(0) - py(p.y)),
                                  color: color, title: "\(s.label), round \(Int(p.x)): \(ByteCount.format(Int64(p.y)))"))
            }
        }
        let model = frame(title: title, left: left, axis: axis, py: py, xTicks: xTicks, xLabel: xLabel, bars: bars, lines: [])
        return ReportChart(title: title, svg: ChartTemplate.svg.render(model), legend: series.map(legendItem), hasData: true)
    }

    private static func frame(title: String, left: Double, axis: Axis, py: (Double) -> Double, xTicks: [ChartSVGModel.Tick],
                              xLabel: String, bars: [ChartSVGModel.Bar], lines: [ChartSVGModel.Line]) -> ChartSVGModel {
        let grid = zip(axis.ticks, axis.labels).map { t, label in
            ChartSVGModel.GridLine(x1: fmt(left), x2: fmt(width - right), y: fmt(py(t)),
                                   labelX: fmt(left - 6), labelY: fmt(py(t) + 4), text: label)
        }
        return ChartSVGModel(width: "\(Int(width))", height: "\(Int(height))", title: title,
                             plotLeft: fmt(left), plotRight: fmt(width - right), plotTop: fmt(top), plotBottom: fmt(height - bottom),
                             grid: grid, xTicks: xTicks,
                             xLabel: .init(x: fmt((left + width - right) / 2), y: fmt(height - 6), text: xLabel),
                             bars: bars, lines: lines)
    }

    /// Room for the longest y tick label (about 6.5 units a character at font size 11).
    private static func leftMargin(_ labels: [String]) -> Double {
        max(36, Double(labels.map(\.count).max() ?? 0) * 6.5 + 12)
    }

    private static func legendItem(_ s: Series) -> ReportLegendItem {
        let look = Look(s.style)
        let swatch: String
        if case .bar = s.style {
            swatch = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"14\" height=\"14\" viewBox=\"0 0 14 14\" aria-hidden=\"true\">"
                + "<rect x=\"1\" y=\"1\" width=\"12\" height=\"12\" rx=\"2\" fill=\"\(look.color)\"/></svg>"
        } else {
            swatch = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"30\" height=\"14\" viewBox=\"0 0 30 14\" aria-hidden=\"true\">"
                + "<line x1=\"2\" y1=\"7\" x2=\"28\" y2=\"7\" stroke=\"\(look.color)\" stroke-width=\"\(fmt(look.lineWidth))\""
                + (look.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
                + "<path d=\"\(look.marker.path(x: 15, y: 7, size: look.markerSize))\" fill=\"\(look.hollow ? "#ffffff" : look.color)\""
                + " stroke=\"\(look.color)\" stroke-width=\"1.5\"/></svg>"
        }
        return ReportLegendItem(label: s.label, color: look.color, dashed: look.dash != nil, swatch: swatch)
    }

    static func fmt(_ v: Double) -> String { formatFixed(v, 1) }
}

/// The drawing attributes of a series style.
private struct Look {
    var color: String
    var lineWidth = 2.0
    var dash: String?
    var marker = MarkerShape.circle
    var markerSize = 3.2
    var hollow = false

    init(_ style: SVGChart.Style) {
        switch style {
        case .peer(let i):
            color = SVGChart.palette[i % SVGChart.palette.count]
            // The shape also moves on once the colours wrap round, so the first 50 peers differ in one or the other.
            marker = MarkerShape.allCases[(i + i / SVGChart.palette.count) % MarkerShape.allCases.count]
            // Later peers a little thinner and smaller, so that where two coincide both still show.
            lineWidth = max(1.5, 2.5 - 0.3 * Double(i))
            markerSize = max(2.4, 4 - 0.4 * Double(i))
        case .aggregate:
            color = SVGChart.aggregateColor
            lineWidth = 1.5
            dash = "6 4"
            markerSize = 5.5
            hollow = true
        case .bar(let c):
            color = c
        }
    }
}

/// Marker shapes, so that lines stay distinguishable without colour.
private enum MarkerShape: CaseIterable {
    case circle, square, triangle, diamond, triangleDown

    /// An SVG path centred on (x, y), about `size` in radius.
    func path(x: Double, y: Double, size s: Double) -> String {
        let f = SVGChart.fmt
        switch self {
        case .circle:
            return "M\(f(x - s)),\(f(y))a\(f(s)),\(f(s)) 0 1,0 \(f(2 * s)),0a\(f(s)),\(f(s)) 0 1,0 \(f(-2 * s)),0Z"
        case .square:
            let h = s * 0.9
            return "M\(f(x - h)),\(f(y - h))h\(f(2 * h))v\(f(2 * h))h\(f(-2 * h))Z"
        case .triangle:
            return "M\(f(x)),\(f(y - s * 1.25))L\(f(x + s * 1.15)),\(f(y + s * 0.85))L\(f(x - s * 1.15)),\(f(y + s * 0.85))Z"
        case .diamond:
            return "M\(f(x)),\(f(y - s * 1.3))L\(f(x + s * 1.1)),\(f(y))L\(f(x)),\(f(y + s * 1.3))L\(f(x - s * 1.1)),\(f(y))Z"
        case .triangleDown:
            return "M\(f(x)),\(f(y + s * 1.25))L\(f(x + s * 1.15)),\(f(y - s * 0.85))L\(f(x - s * 1.15)),\(f(y - s * 0.85))Z"
        }
    }
}

/// A binary byte unit for an axis whose largest value is `peak`.
private struct ByteUnit {
    let name: String
    let divisor: Double

    init(_ peak: Double) {
        switch peak {
        case 1_073_741_824...: (name, divisor) = ("GiB", 1_073_741_824)
        case 1_048_576...: (name, divisor) = ("MiB", 1_048_576)
        case 1024...: (name, divisor) = ("KiB", 1024)
        default: (name, divisor) = ("B", 1)
        }
    }
}
