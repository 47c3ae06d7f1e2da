/// One `--sweep KEY=V1,V2,…`: a variable and the values to try.
public struct SweepAxis: Sendable, Equatable {
    /// The variable.
    public var name: String
    /// Its values, as text (parsed with the variable's type at render time).
    public var values: [String]

    /// Creates an axis.
    public init(name: String, values: [String]) {
        self.name = name
        self.values = values
    }

    /// Parses `KEY=V1,V2,…`.
    public static func parse(_ text: String) throws(TemplateError) -> SweepAxis {
        let assignment = try TemplateAssignment.parse(text, option: "--sweep")
        let values = TemplateValue.splitList(assignment.value.trimmed)
        guard !values.isEmpty, !values.contains(where: \.isEmpty) else {
            throw .malformedAssignment(text: text, option: "--sweep")
        }
        return SweepAxis(name: assignment.name, values: values)
    }
}

/// The combinations of several sweep axes (the first axis varies slowest) and their folder names.
public struct SweepPlan: Sendable {
    /// One combination: an assignment per axis and the folder it renders into.
    public struct Combination: Sendable, Equatable {
        /// One value per axis, in axis order.
        public var assignments: [TemplateAssignment]
        /// `name-value` per axis joined by `_`, e.g. `quantization-fp16_rounds-3`.
        public var folderName: String
    }

    /// Every combination, in order.
    public let combinations: [Combination]

    /// Most combinations one sweep may render.
    public static let maxCombinations = 1000

    /// Checks the axes against `template` (known variables, no list variables, no variable twice,
    /// not also in `fixed`) and builds the combinations.
    public init(axes: [SweepAxis], template: JobTemplate, fixed: [TemplateAssignment]) throws(TemplateError) {
        var seen = Set(fixed.map(\.name))
        for axis in axes {
            guard let variable = template.variable(named: axis.name) else {
                throw TemplateValues.unknown(axis.name, template: template)
            }
            if variable.type == .list || variable.type == .sites { throw .sweepOverList(variable: axis.name) }
            guard seen.insert(axis.name).inserted else { throw .duplicateVariable(name: axis.name) }
        }
        var combos: [[TemplateAssignment]] = [[]]
        for axis in axes {
            var next: [[TemplateAssignment]] = []
            for combo in combos {
                for value in axis.values { next.append(combo + [TemplateAssignment(name: axis.name, value: value)]) }
            }
            guard next.count <= Self.maxCombinations else {
                throw .invalidValue(variable: axis.name, value: axis.values.joined(separator: ","),
                                    expected: "at most \(Self.maxCombinations) combinations in all",
                                    hint: "sweep fewer values at once")
            }
            combos = next
        }
        var names = Set<String>()
        var result: [Combination] = []
        for combo in combos {
            let name = combo.map { "\($0.name)-\(Self.folderText($0.value))" }.joined(separator: "_")
            guard names.insert(name).inserted else { throw .sweepNameCollision(name: name) }
            result.append(Combination(assignments: combo, folderName: name))
        }
        combinations = result
    }

    /// A value as part of a folder name: letters, digits, `.`, `+` and `-` kept, anything else `-`.
    static func folderText(_ value: String) -> String {
        var out = ""
        for scalar in value.trimmed.unicodeScalars {
            let ok = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || ".+-".unicodeScalars.contains(scalar)
            out.append(ok ? Character(scalar) : "-")
        }
        if out.isEmpty || out.allSatisfy({ $0 == "." }) { out = "-" + out }
        return out
    }
}
