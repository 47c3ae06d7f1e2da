// TEMPORARY: stands in for FerryQuant's API until that module lands; deleted then.
import FerrySupport

public enum QuantFormat: String, Sendable, CaseIterable { case fp16, bf16, blockwise8, fp4, nf4 }
