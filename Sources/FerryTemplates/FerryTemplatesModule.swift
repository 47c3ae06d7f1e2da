/// Job templates and experiment sweeps.
///
/// Placeholder so the module builds; replaced as the module is written.
public enum FerryTemplatesModule {}
