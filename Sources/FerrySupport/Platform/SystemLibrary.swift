// The platform's C library, re-exported: every module reaches POSIX through FerrySupport, and this
// is the one file that names the library of each platform.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#endif
