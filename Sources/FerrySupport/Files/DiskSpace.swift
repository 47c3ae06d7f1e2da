import Foundation
import SystemPackage

/// Free space of a folder's file system, and recognising a full disk (ENOSPC, EDQUOT) in an error,
/// whichever layer threw it: a full disk is a pause, never a failure (docs/reliability.md).
public enum DiskSpace {
    /// Bytes an unprivileged process can still write on the file system holding `path` (the nearest
    /// existing folder above it when it does not exist yet); nil when it cannot be measured.
    public static func available(at path: String) -> Int64? {
        var current = FilePath(path)
        while true {
            var info = statvfs()
            if statvfs(current.string.isEmpty ? "." : current.string, &info) == 0 {
                return Int64(info.f_bavail) * Int64(info.f_frsize)
            }
            let parent = current.removingLastComponent()
            if parent == current || parent.isEmpty { return nil }
            current = parent
        }
    }

    /// Whether `code` means the disk or the user's quota is full.
    public static func isFull(_ code: Errno) -> Bool { code == .noSpace || code == .diskQuotaExceeded }

    /// The texts a full disk shows up as in messages of other programs (an executor's error, a
    /// Foundation error): errno descriptions in several wordings.
    static let fullDiskTexts = ["no space left on device", "disk quota exceeded", "errno 28", "enospc", "edquot",
                                "isn't enough space", "not enough space", "out of space"]

    /// Whether `error` (or an error it wraps) is a full disk or quota.
    public static func isFull(_ error: any Error) -> Bool {
        if error is DiskSpaceShortage { return true }
        if let code = error as? Errno { return isFull(code) }
        if let support = error as? SupportError, let code = support.errno { return isFull(code) }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain, ns.code == Int(ENOSPC) || ns.code == Int(EDQUOT) { return true }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileWriteOutOfSpaceError { return true }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? any Error, isFull(underlying) { return true }
        return isFull(text: "\(error)")
    }

    /// Whether a message (an executor's error, a log line) says the disk is full.
    public static func isFull(text: String) -> Bool {
        let lower = text.lowercased()
        return fullDiskTexts.contains { lower.contains($0) }
    }

    /// The folder a full-disk `error` was about: the folder of the path in a ``SupportError`` or
    /// ``DiskSpaceShortage``, nil when the error names none.
    public static func folder(of error: any Error) -> String? {
        if let shortage = error as? DiskSpaceShortage { return shortage.folder }
        if let support = error as? SupportError, case let .io(path, _, _) = support {
            return FilePath(path).removingLastComponent().string
        }
        return nil
    }
}

/// Not enough free space in a folder for the next step: the step waits (nothing is written) until
/// there is.
public struct DiskSpaceShortage: Error, CustomStringConvertible, Equatable, Sendable {
    /// The folder the step writes into.
    public var folder: String
    /// Bytes the step needs free there.
    public var needed: Int64
    /// Bytes free there when it was measured.
    public var available: Int64

    /// A shortage of `needed` bytes in `folder`, which had `available` free.
    public init(folder: String, needed: Int64, available: Int64) {
        self.folder = folder
        self.needed = needed
        self.available = available
    }

    /// Checks that `folder` has `needed` bytes free; throws the shortage when it has not (a folder
    /// whose space cannot be measured passes).
    public static func check(folder: String, needed: Int64) throws(DiskSpaceShortage) {
        guard let free = DiskSpace.available(at: folder), free < needed else { return }
        throw DiskSpaceShortage(folder: folder, needed: needed, available: free)
    }

    public var description: String {
        "\(folder) is full: \(ByteCount.format(available)) free, about \(ByteCount.format(needed)) needed; "
            + "free space there or grow the disk, and the work continues by itself"
    }
}
