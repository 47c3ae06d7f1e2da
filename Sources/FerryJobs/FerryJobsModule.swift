/// Job folders: YAML job definitions, typed decoding and validation.
///
/// Placeholder so the module builds; replaced as the module is written.
public enum FerryJobsModule {}
