import FerrySupport

/// The text form of a `ferry doctor` report: one line per check, its meaning indented below.
enum DoctorText {
    static func render(_ report: DoctorReport) -> String {
        var out = "share  \(report.share)\(describe(report.filesystem))\n"
        if let peer = report.peer { out += "peer   \(peer)\(describe(report.peerFilesystem))\n" }
        out += "\n"
        let width = (report.checks.map(\.title.count).max() ?? 0) + 2
        for check in report.checks {
            let status = check.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
            out += status + check.title.padding(toLength: width, withPad: " ", startingAt: 0) + check.value + "\n"
            if !check.meaning.isEmpty { out += String(repeating: " ", count: 9 + width) + check.meaning + "\n" }
        }
        let r = report.recommended
        out += "\nverdict: \(report.verdict.rawValue): \(report.summary)\n"
        out += "\nrecommended settings for this share:\n"
        func setting(_ name: String, _ value: String, _ use: String) -> String {
            "  " + name.padding(toLength: 10, withPad: " ", startingAt: 0) + value.padding(toLength: 16, withPad: " ", startingAt: 0) + use + "\n"
        }
        out += setting("poll", r.poll, "ferry transfer --poll \(r.poll); project.yaml poll: \(r.poll)")
        if r.pollingOnly { out += setting("polling", "--polling-only", "inotify misses the other side's writes") }
        out += setting("chunk", r.chunk, "ferry transfer send --chunk \(r.chunk)")
        out += setting("window", "\(r.window)", "ferry transfer send --window \(r.window)")
        if r.mountOptions.isEmpty {
            out += "  mount     no option to change\n"
        } else {
            for (index, option) in r.mountOptions.enumerated() { out += (index == 0 ? "  mount     " : "            ") + option + "\n" }
        }
        out += "why:\n"
        for reason in r.reasons { out += "  - \(reason)\n" }
        return out
    }

    private static func describe(_ mount: ShareMount?) -> String {
        guard let mount else { return "" }
        return "  (\(mount.type) at \(mount.mountPoint) from \(mount.source), \(mount.options))"
    }
}
