#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the POSIX calls the reader needs (open, fstat, pread).
enum POSIXFile {
    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    static func openForReading(_ path: String) throws(SafetensorsError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(file: path, operation: "open for reading", reason: errorText(errno)) }
        return fd
    }

    static func size(_ fd: Int32, path: String) throws(SafetensorsError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(file: path, operation: "stat", reason: errorText(errno)) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw .io(file: path, operation: "read a safetensors file from it", reason: "not a regular file")
        }
        return Int64(st.st_size)
    }

    /// Reads exactly `buffer.count` bytes at `offset`, retrying short reads and interrupts.
    static func readFully(_ fd: Int32, path: String, offset: Int64,
                          into buffer: UnsafeMutableRawBufferPointer) throws(SafetensorsError) {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(file: path, operation: "read", reason: errorText(errno))
            }
            if n == 0 { throw .truncated(file: path, offset: offset, expected: buffer.count, got: done) }
            done += n
        }
    }

    static func close(_ fd: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #elseif canImport(Musl)
        _ = Musl.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
    }
}
