/// The per-site part of a failed round's reason.
enum SiteProblems {
    /// `site-1, site-2: failed: X; site-3: timed out: Y`: sites that report the same problem share one
    /// entry (a program missing everywhere is named once), in order of first appearance.
    static func text(_ problems: [(site: String, problem: String)]) -> String {
        var order: [String] = []
        var sites: [String: [String]] = [:]
        for (site, problem) in problems {
            if sites[problem] == nil { order.append(problem) }
            sites[problem, default: []].append(site)
        }
        return order.map { sites[$0]!.joined(separator: ", ") + ": " + $0 }.joined(separator: "; ")
    }
}
