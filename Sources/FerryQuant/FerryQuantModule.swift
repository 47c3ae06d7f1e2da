/// Quantization codecs (fp16, bf16, blockwise8, fp4, nf4) and the quantized-model format.
///
/// Placeholder so the module builds; replaced as the module is written.
public enum FerryQuantModule {}
