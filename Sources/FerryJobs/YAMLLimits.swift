/// Limits applied to every YAML file of a job before it is composed into a node tree.
///
/// They make hostile input fail fast with a clear error and bounded memory: oversized files are
/// refused before they are read, and alias expansion ("billion laughs"), nesting depth and scalar
/// length are measured on libyaml's event stream before any tree exists.
public struct YAMLLimits: Sendable, Equatable {
    /// Largest accepted file, in bytes (default 1 MiB).
    public var maxFileBytes: Int
    /// Deepest accepted nesting of mappings and sequences (default 64).
    public var maxDepth: Int
    /// Longest accepted scalar, in bytes (default 64 KiB).
    public var maxScalarBytes: Int
    /// Most nodes the document may hold once every alias is expanded (default 100 000).
    public var maxExpandedNodes: Int

    /// Creates limits; the defaults are the ones `ferry job validate` uses.
    public init(maxFileBytes: Int = 1 << 20, maxDepth: Int = 64, maxScalarBytes: Int = 64 << 10,
                maxExpandedNodes: Int = 100_000) {
        self.maxFileBytes = maxFileBytes
        self.maxDepth = maxDepth
        self.maxScalarBytes = maxScalarBytes
        self.maxExpandedNodes = maxExpandedNodes
    }

    /// The default limits.
    public static let standard = YAMLLimits()
}
