// libyaml's event parser, reached through Yams's bundled C target (SwiftPM exposes the module map of a
// dependency's C target to its dependents). Yams's composer offers no hook to bound alias expansion, so
// the event stream is measured here first.
internal import CYaml

/// A problem found while scanning a YAML file's event stream.
struct YAMLScanProblem: Error {
    var line: Int
    var column: Int
    var message: String
    var hint: String
}

/// Streams libyaml events over a document and enforces ``YAMLLimits`` without building a tree.
///
/// Alias expansion is measured exactly: every anchored node records the size of its subtree after
/// expansion, and every alias adds that size to the running total, so a billion-laughs file is refused
/// after a few hundred events, in constant memory.
enum YAMLEventScan {
    static func check(_ bytes: [UInt8], limits: YAMLLimits) -> YAMLScanProblem? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return YAMLScanProblem(line: 1, column: 1, message: "cannot initialize the YAML parser (out of memory)",
                                   hint: "retry with more free memory")
        }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeBufferPointer { buffer -> YAMLScanProblem? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var state = ScanState(limits: limits)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return syntaxProblem(parser, bytes: bytes) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return nil }
                if let problem = state.consume(event) { return problem }
            }
        }
    }

    private static func syntaxProblem(_ parser: yaml_parser_t, bytes: [UInt8]) -> YAMLScanProblem {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        let context = parser.context.map { String(cString: $0) }
        if parser.error == YAML_READER_ERROR {
            return YAMLScanProblem(line: 1, column: 1, message: "cannot read the file: \(problem) at byte \(parser.problem_offset)",
                                   hint: "save the file as UTF-8 text")
        }
        if let context, let unclosed = unclosedProblem(parser, context: context, problem: problem, bytes: bytes) {
            return unclosed
        }
        var message = "invalid YAML: \(problem)"
        if let context { message += " (\(context))" }
        return YAMLScanProblem(line: parser.problem_mark.line + 1, column: parser.problem_mark.column + 1,
                               message: message,
                               hint: "check the indentation, colons and quotes at this position")
    }

    /// An unclosed `[`, `{` or quote, reported where it opens (libyaml's context mark) rather than where
    /// the parser gave up, which is often the end of the file.
    private static func unclosedProblem(_ parser: yaml_parser_t, context: String, problem: String,
                                        bytes: [UInt8]) -> YAMLScanProblem? {
        let open = parser.context_mark
        let gaveUp = "the parser stopped at line \(parser.problem_mark.line + 1), column \(parser.problem_mark.column + 1): \(problem)"
        let text = YAMLUnclosed.characters(bytes)
        switch context {
        case "while parsing a flow sequence", "while parsing a flow mapping":
            guard YAMLUnclosed.bracketIsClosed(text, at: open.index) == false else { return nil }
            let (bracket, closer, what) = text[open.index] == "[" ? ("[", "]", "list") : ("{", "}", "mapping")
            return YAMLScanProblem(line: open.line + 1, column: open.column + 1,
                                   message: "this '\(bracket)' is never closed",
                                   hint: "end the \(what) with '\(closer)' after its last item (\(gaveUp))")
        case "while scanning a quoted scalar":
            guard YAMLUnclosed.quoteIsClosed(text, at: open.index) == false else { return nil }
            let quote = String(text[open.index])
            return YAMLScanProblem(line: open.line + 1, column: open.column + 1,
                                   message: "this quote is never closed",
                                   hint: "end the quoted text with \(quote) (\(gaveUp))")
        default:
            return nil
        }
    }
}

/// Running measurements of one scan.
private struct ScanState {
    let limits: YAMLLimits
    /// Expanded node count when each open container started, with its anchor.
    var open: [(start: Int, anchor: String?)] = []
    /// Expanded subtree size of every anchor seen so far.
    var anchorSizes: [String: Int] = [:]
    var expanded = 0
    var documents = 0

    init(limits: YAMLLimits) { self.limits = limits }

    mutating func consume(_ event: yaml_event_t) -> YAMLScanProblem? {
        let mark = event.start_mark
        let line = mark.line + 1, column = mark.column + 1
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                return YAMLScanProblem(line: line, column: column, message: "a second YAML document starts here",
                                       hint: "a job file holds exactly one document; remove the `---` separator and what follows")
            }
        case YAML_SCALAR_EVENT:
            if event.data.scalar.length > limits.maxScalarBytes {
                return YAMLScanProblem(line: line, column: column,
                                       message: "scalar of \(event.data.scalar.length) bytes exceeds the limit of \(limits.maxScalarBytes) bytes",
                                       hint: "keep values short; put large content in a file under the job folder")
            }
            if let anchor = string(event.data.scalar.anchor) { anchorSizes[anchor] = 1 }
            return add(1, line: line, column: column)
        case YAML_ALIAS_EVENT:
            let anchor = string(event.data.alias.anchor) ?? ""
            guard let size = anchorSizes[anchor] else {
                return YAMLScanProblem(line: line, column: column, message: "alias '*\(anchor)' refers to no anchor",
                                       hint: "define `&\(anchor)` before using `*\(anchor)`")
            }
            return add(size, line: line, column: column)
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            if open.count >= limits.maxDepth {
                return YAMLScanProblem(line: line, column: column,
                                       message: "nesting deeper than \(limits.maxDepth) levels",
                                       hint: "job files need only a few levels; flatten this structure")
            }
            let anchor = event.type == YAML_SEQUENCE_START_EVENT
                ? string(event.data.sequence_start.anchor) : string(event.data.mapping_start.anchor)
            open.append((start: expanded, anchor: anchor))
            return add(1, line: line, column: column)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            if let closed = open.popLast(), let anchor = closed.anchor {
                anchorSizes[anchor] = expanded - closed.start
            }
        default:
            break
        }
        return nil
    }

    private mutating func add(_ count: Int, line: Int, column: Int) -> YAMLScanProblem? {
        expanded += count
        guard expanded <= limits.maxExpandedNodes else {
            return YAMLScanProblem(line: line, column: column,
                                   message: "document expands to more than \(limits.maxExpandedNodes) nodes (alias expansion bomb?)",
                                   hint: "use fewer aliases (*name); job files need only a few hundred values")
        }
        return nil
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }
}
