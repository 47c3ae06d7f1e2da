extension JobArchive {
    /// The regular files of the job folder `directory` larger than `threshold` bytes, as paths relative
    /// to it, sorted: the files ``pack(directory:to:format:excluding:progress:)`` would put into the
    /// archive (version-control and editor litter skipped the same way) that the job store keeps beside
    /// it instead (docs/workspaces.md, "External files").
    /// - Throws: ``ArchiveError`` when the folder cannot be walked or holds what cannot be packed.
    public static func largeFiles(in directory: String, over threshold: Int64) throws -> [String] {
        let root = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        return try JobTree.scan(root: root, excluding: nil)
            .filter { !$0.isDirectory && $0.size > threshold }
            .map(\.path)
    }
}
