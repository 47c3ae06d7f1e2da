/// The version of this ferry build: `ferry --version`, and the `version` of every heartbeat.
public enum FerryVersion {
    /// The version text, e.g. `0.1.0`.
    public static let current = "0.1.0"
}
