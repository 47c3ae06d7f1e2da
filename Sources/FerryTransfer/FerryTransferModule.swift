/// Chunk-by-chunk streaming of files and models between site folders, with inline filters.
///
/// Placeholder so the module builds; replaced as the module is written.
public enum FerryTransferModule {}
