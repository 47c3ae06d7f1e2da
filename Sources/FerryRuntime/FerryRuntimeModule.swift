/// The watcher, workflows, executors, aggregation and the local federation.
///
/// Placeholder so the module builds; replaced as the module is written.
public enum FerryRuntimeModule {}
