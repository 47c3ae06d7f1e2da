/// Job archives: reproducible pack, inspect, and safe unpack through libarchive.
///
/// Placeholder so the module builds; replaced as the module is written.
public enum FerryArchiveModule {}
