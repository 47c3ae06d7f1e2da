import FerrySupport
/// Runs libarchive work under a UTF-8 character-type locale on the calling thread.
///
/// libarchive converts entry names through the current locale: in the C locale it cannot write
/// a non-ASCII name into a pax header (libarchive 3.6 even crashes on it) and reads such names
/// back as unconvertible. Switching the thread's `LC_CTYPE` with `uselocale` makes names work
/// and makes archives byte-identical whatever the user's locale is.
enum UTF8Locale {
    private nonisolated(unsafe) static let locale: locale_t? = {
        for name in ["C.UTF-8", "C.utf8", "en_US.UTF-8", "UTF-8"] {
            if let created = newlocale(LC_CTYPE_MASK, name, nil) { return created }
        }
        return nil
    }()

    /// True when a UTF-8 locale exists on this machine.
    static var isAvailable: Bool { locale != nil }

    /// Calls `body` with the thread's locale switched to UTF-8 (when one exists), then restores it.
    static func run<T>(_ body: () throws -> T) rethrows -> T {
        guard let locale else { return try body() }
        let previous = uselocale(locale)
        defer { uselocale(previous) }
        return try body()
    }
}
