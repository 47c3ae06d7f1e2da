import Testing

/// Tests that cap the kernel level (`QuantKernels.setMaximumLevel`). The cap is process-wide, so they
/// run one at a time: a test that asks for the scalar kernels gets them. Other tests running meanwhile
/// are unaffected (every level gives the same bits).
@Suite(.serialized) struct KernelLevelTests {}
