/// Safetensors: streaming reader and writer, synthetic models.
///
/// Placeholder so the module builds; replaced as the module is written.
public enum FerryTensorsModule {}
