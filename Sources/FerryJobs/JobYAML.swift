/// Decoding of single job files held in memory, e.g. read out of a job archive.
///
/// These apply every rule of one file (keys, types, ranges, placeholders) but none that needs the
/// job folder on disk: the deploy map is not matched against app folders, and the files that
/// `initial_model` and relative executor programs name are not looked for. ``JobFolder/load(directory:limits:displayName:)``
/// does all of that.
public enum JobYAML {
    /// Decodes the text of a `job.yaml`; `file` names it in diagnostics.
    public static func decodeJob(_ bytes: [UInt8], file: String,
                                 limits: YAMLLimits = .standard) throws(JobValidationFailure) -> JobDefinition {
        let context = YAMLContext(file: file)
        let root = try YAMLFile.parse(bytes: bytes, display: file, limits: limits).get()
        let output = JobYAMLDecoder(context: context).decode(root)
        guard context.diagnostics.isEmpty, let definition = output.definition else {
            throw JobValidationFailure(diagnostics: context.diagnostics)
        }
        return definition
    }

    /// Decodes the text of an `apps/<app>/app.yaml`; `jobMinClients` is job.yaml's `min_clients`
    /// (the default of a server app's own).
    public static func decodeApp(_ bytes: [UInt8], file: String, jobMinClients: Int? = nil,
                                 limits: YAMLLimits = .standard) throws(JobValidationFailure) -> AppConfig {
        let context = YAMLContext(file: file)
        let root = try YAMLFile.parse(bytes: bytes, display: file, limits: limits).get()
        let decoder = AppYAMLDecoder(context: context, jobDirectory: nil, appDirectory: nil, jobMinClients: jobMinClients)
        guard let config = decoder.decode(root), context.diagnostics.isEmpty else {
            throw JobValidationFailure(diagnostics: context.diagnostics)
        }
        return config
    }
}
