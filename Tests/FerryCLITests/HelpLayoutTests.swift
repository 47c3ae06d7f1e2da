import Foundation
import Testing

/// `--help` of every command reads as ArgumentParser lays it out: prose paragraphs are wrapped to the
/// terminal width, not broken early by line breaks in the source.
@Suite struct HelpLayoutTests {
    /// Every command path of the tree (`[]` is `ferry` itself), found from the SUBCOMMANDS sections.
    static func commandPaths(width: Int) throws -> [[String]] {
        var paths: [[String]] = []
        var pending: [[String]] = [[]]
        while let path = pending.popLast() {
            paths.append(path)
            for sub in try subcommands(of: help(path, width: width)) where sub != "help" {
                pending.append(path + [sub])
            }
        }
        return paths
    }

    static func help(_ path: [String], width: Int) throws -> String {
        let r = try FerryCLI.run(path + ["--help"], environment: ["COLUMNS": String(width)])
        #expect(r.status == 0, "ferry \(path.joined(separator: " ")) --help: \(r.stderr)")
        return r.stdout
    }

    /// Names listed under SUBCOMMANDS: (each entry starts with two spaces and a lowercase name).
    static func subcommands(of help: String) -> [String] {
        var names: [String] = []
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") { inSection = true; continue }
            guard inSection else { continue }
            if !line.isEmpty, !line.hasPrefix(" ") { break }
            if line.hasPrefix("  "), let first = line.dropFirst(2).first, first.isLowercase {
                names.append(String(line.dropFirst(2).prefix { $0 != " " }))
            }
        }
        return names
    }

    /// Lines of the discussion (between OVERVIEW and USAGE) where the next line continues the same
    /// paragraph at the same indentation and its first word would still have fitted on this line.
    /// Indented blocks (examples, lists) differ in indentation from the paragraph text and are skipped.
    static func raggedLines(in help: String, width: Int) -> [String] {
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let usage = lines.firstIndex(where: { $0.hasPrefix("USAGE:") }) else { return [] }
        let discussion = Array(lines[..<usage].dropFirst())   // the OVERVIEW line holds the abstract
        func indent(_ s: String) -> Int { s.prefix { $0 == " " }.count }
        let text = discussion.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard let base = text.map(indent).min() else { return [] }
        var ragged: [String] = []
        for (line, next) in zip(discussion, discussion.dropFirst()) {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty, !next.trimmingCharacters(in: .whitespaces).isEmpty,
                  indent(line) == base, indent(next) == base else { continue }
            let firstWord = next.drop { $0 == " " }.prefix { $0 != " " }
            let trimmed = line.reversed().drop { $0 == " " }.count
            // ArgumentParser fills a line up to width - 1 characters.
            if trimmed + 1 + firstWord.count < width {
                ragged.append(line)
            }
        }
        return ragged
    }

    @Test func raggedRuleCatchesEarlyBreaksOnly() {
        let help = """
        OVERVIEW: Abstract.

        A paragraph that ArgumentParser wrapped at the width of the terminal, whose words fill the line
        with words until the next one would reach the width (lines are at most width - 1 characters).

        A line broken early by the source
        continues here.

        Examples:
          ferry a
          ferry b

        USAGE: ferry x
        """
        #expect(Self.raggedLines(in: help, width: 100) == ["A line broken early by the source"])
    }

    /// docs/cli.md is generated at 100 columns; 80 is a common terminal (and breaks a source line of
    /// about 100 characters into a long and a short line).
    @Test(arguments: [100, 80])
    func everyCommandsDiscussionIsWrappedToTheWidth(width: Int) throws {
        let paths = try Self.commandPaths(width: width)
        #expect(paths.count > 20, "found only \(paths)")
        for path in paths {
            let ragged = Self.raggedLines(in: try Self.help(path, width: width), width: width)
            #expect(ragged.isEmpty, "COLUMNS=\(width) ferry \(path.joined(separator: " ")) --help breaks lines early:\n\(ragged.joined(separator: "\n"))")
        }
    }
}
