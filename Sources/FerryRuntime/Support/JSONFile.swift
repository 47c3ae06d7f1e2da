import FerrySupport
import Foundation

/// Reading and atomically writing the small JSON files the runtime keeps its state in.
enum JSONFile {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }

    /// Decodes `path`; throws when it is missing or malformed.
    static func read<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RuntimeError.fileUnreadable(path: path, reason: "\(error.localizedDescription)")
        }
        do {
            return try decoder().decode(T.self, from: data)
        } catch {
            throw RuntimeError.fileUnreadable(path: path, reason: "not valid JSON for this file: \(error)")
        }
    }

    /// Decodes `path`, or returns nil when the file does not exist.
    static func readIfPresent<T: Decodable>(_ type: T.Type, from path: String) throws -> T? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try read(type, from: path)
    }

    /// Encodes `value` and writes it atomically to `path` (temp file, fsync, rename).
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        var data = try encoder().encode(value)
        data.append(0x0A)
        try AtomicFile.write(data, to: path)
    }
}

/// Small file-system helpers used across the runtime.
enum Files {
    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RuntimeError.fileUnwritable(path: path, reason: "cannot create directory: \(error.localizedDescription)")
        }
    }

    /// Names in `path`, sorted; empty when it does not exist.
    static func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes an empty marker file atomically.
    static func touch(_ path: String, contents: String = "") throws {
        try AtomicFile.write(string: contents, to: path)
    }

    /// Puts the file `from` at `to` (replacing it) while keeping `from`, through a hard link, so a caller can
    /// remove `from` only after it has committed what `to` is for: a crash in between leaves `from` to be
    /// found again. Where no hard link can be made, `from` is moved instead.
    static func linkReplacing(_ from: String, to: String) throws {
        remove(to)
        if link(from, to) != 0 { try move(from, to: to) }
    }

    /// Renames `from` to `to` (same file system), replacing `to`.
    static func move(_ from: String, to: String) throws {
        if rename(from, to) != 0 {
            let code = errno
            if code == EXDEV {
                remove(to)
                do {
                    try FileManager.default.copyItem(atPath: from, toPath: to + ".copying")
                    _ = rename(to + ".copying", to)
                    remove(from)
                    return
                } catch {
                    throw RuntimeError.fileUnwritable(path: to, reason: "cannot copy from \(from): \(error.localizedDescription)")
                }
            }
            throw RuntimeError.fileUnwritable(path: to, reason: "cannot move \(from) here: \(String(cString: strerror(code)))")
        }
    }

    /// Size of a file in bytes (0 when missing).
    static func size(_ path: String) -> Int64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (attributes?[.size] as? NSNumber)?.int64Value ?? 0
    }

    static func join(_ parts: String...) -> String {
        parts.joined(separator: "/").replacingOccurrences(of: "//", with: "/")
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path).standardizedFileURL.path }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent(path).standardizedFileURL.path
    }
}

/// Identifiers: rounds and tasks formatted the way file names use them.
enum Names {
    static func round(_ r: Int) -> String {
        var s = String(r)
        while s.count < 4 { s = "0" + s }
        return s
    }
}
