import FerrySupport
import Foundation

/// Small inline SVG charts for the HTML report (no scripts, no network).
enum SVGChart {
    /// A named series of (x, y) points.
    struct Series {
        var label: String
        var points: [(x: Double, y: Double)]
        var emphasized = false
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    private static let width = 640.0, height = 280.0
    private static let left = 64.0, right = 150.0, top = 24.0, bottom = 36.0

    /// A line chart of `series` over whole-number x values (rounds).
    static func lines(title: String, yLabel: String, series: [Series]) -> String {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return "<p class=\"empty\">\(HTML.escape(title)): no data</p>" }
        let (x0, x1) = (all.map(\.x).min()!, max(all.map(\.x).max()!, all.map(\.x).min()! + 1))
        var (y0, y1) = (all.map(\.y).min()!, all.map(\.y).max()!)
        if y1 - y0 < 1e-12 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.08
        y0 -= pad
        y1 += pad
        let px = { (x: Double) in left + (x - x0) / (x1 - x0) * (width - left - right) }
        let py = { (y: Double) in top + (1 - (y - y0) / (y1 - y0)) * (height - top - bottom) }
        var svg = frame(title: title)
        svg += axes(yTicks: ticks(y0, y1), py: py, xTicks: Array(stride(from: x0, through: x1, by: max(1, ((x1 - x0) / 10).rounded(.up)))), px: px,
                    xLabel: "round", yLabel: yLabel)
        for (i, s) in series.enumerated() {
            let color = palette[i % palette.count]
            let path = s.points.map { "\(fmt(px($0.x))),\(fmt(py($0.y)))" }.joined(separator: " ")
            let width = s.emphasized ? 3.0 : 1.5
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(fmt(width))\" points=\"\(path)\"/>"
            for p in s.points {
                svg += "<circle cx=\"\(fmt(px(p.x)))\" cy=\"\(fmt(py(p.y)))\" r=\"\(s.emphasized ? 3.5 : 2.5)\" fill=\"\(color)\">"
                    + "<title>\(HTML.escape(s.label)) round \(Int(p.x)): \(formatFixed(p.y, 4))</title></circle>"
            }
            svg += legend(i, s.label, color: color)
        }
        return svg + "</svg>"
    }

    /// Grouped bars: for each x (round), one bar per series.
    static func bars(title: String, yLabel: String, series: [Series], format: (Double) -> String) -> String {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return "<p class=\"empty\">\(HTML.escape(title)): no data</p>" }
        let xs = Array(Set(all.map(\.x))).sorted()
        let y1 = max(all.map(\.y).max()!, 1) * 1.08
        let py = { (y: Double) in top + (1 - y / y1) * (height - top - bottom) }
        let slot = (width - left - right) / Double(xs.count)
        let barWidth = slot * 0.8 / Double(max(series.count, 1))
        var svg = frame(title: title)
        svg += axes(yTicks: ticks(0, y1), py: py, xTicks: [], px: { $0 }, xLabel: "round", yLabel: yLabel, yFormat: format)
        for (j, x) in xs.enumerated() {
            let cx = left + slot * (Double(j) + 0.5)
            svg += "<text x=\"\(fmt(cx))\" y=\"\(fmt(height - bottom + 14))\" text-anchor=\"middle\" class=\"tick\">\(Int(x))</text>"
        }
        for (i, s) in series.enumerated() {
            let color = palette[i % palette.count]
            for p in s.points {
                guard let j = xs.firstIndex(of: p.x) else { continue }
                let x = left + slot * Double(j) + slot * 0.1 + barWidth * Double(i)
                svg += "<rect x=\"\(fmt(x))\" y=\"\(fmt(py(p.y)))\" width=\"\(fmt(barWidth))\" height=\"\(fmt(py(0) - py(p.y)))\" fill=\"\(color)\">"
                    + "<title>\(HTML.escape(s.label)) round \(Int(p.x)): \(format(p.y))</title></rect>"
            }
            svg += legend(i, s.label, color: color)
        }
        return svg + "</svg>"
    }

    private static func frame(title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
            + "<title>\(HTML.escape(title))</title>"
            + "<text x=\"\(fmt(left))\" y=\"16\" class=\"chart-title\">\(HTML.escape(title))</text>"
    }

    private static func axes(yTicks: [Double], py: (Double) -> Double, xTicks: [Double], px: (Double) -> Double,
                             xLabel: String, yLabel: String, yFormat: (Double) -> String = { formatFixed($0, 3) }) -> String {
        var s = "<line x1=\"\(fmt(left))\" y1=\"\(fmt(top))\" x2=\"\(fmt(left))\" y2=\"\(fmt(height - bottom))\" class=\"axis\"/>"
        s += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(height - bottom))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(height - bottom))\" class=\"axis\"/>"
        for t in yTicks {
            s += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(py(t)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(py(t)))\" class=\"grid\"/>"
            s += "<text x=\"\(fmt(left - 4))\" y=\"\(fmt(py(t) + 4))\" text-anchor=\"end\" class=\"tick\">\(HTML.escape(yFormat(t)))</text>"
        }
        for t in xTicks {
            s += "<text x=\"\(fmt(px(t)))\" y=\"\(fmt(height - bottom + 14))\" text-anchor=\"middle\" class=\"tick\">\(Int(t))</text>"
        }
        s += "<text x=\"\(fmt((left + width - right) / 2))\" y=\"\(fmt(height - 6))\" text-anchor=\"middle\" class=\"label\">\(HTML.escape(xLabel))</text>"
        s += "<text x=\"14\" y=\"\(fmt((top + height - bottom) / 2))\" text-anchor=\"middle\" class=\"label\" transform=\"rotate(-90 14 \(fmt((top + height - bottom) / 2)))\">\(HTML.escape(yLabel))</text>"
        return s
    }

    private static func legend(_ i: Int, _ label: String, color: String) -> String {
        let y = top + 6 + Double(i) * 16
        return "<rect x=\"\(fmt(width - right + 10))\" y=\"\(fmt(y - 8))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            + "<text x=\"\(fmt(width - right + 24))\" y=\"\(fmt(y + 1))\" class=\"tick\">\(HTML.escape(label))</text>"
    }

    /// About five round tick values between `a` and `b`.
    static func ticks(_ a: Double, _ b: Double) -> [Double] {
        let span = b - a
        guard span > 0, span.isFinite else { return [a] }
        let raw = span / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var t = (a / step).rounded(.up) * step
        while t <= b + step * 1e-9 {
            out.append(t)
            t += step
        }
        return out
    }

    static func fmt(_ v: Double) -> String { formatFixed(v, 1) }
}

/// HTML text escaping.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
