import Foundation

/// Errors from site cards, federation files, `ferry site …` and `ferry federation …`. Each names the
/// file and says what to do.
public enum FederationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A card or federation file cannot be read or decoded.
    case unreadable(path: String, reason: String)
    /// A card's or federation file's signature does not verify: it was changed after it was signed.
    case tampered(path: String, kind: String, reason: String)
    /// A federation file older than (or different at the same serial from) the one already accepted.
    case replayed(path: String, serial: Int, accepted: Int)
    /// A federation file signed by a key other than the pinned server key.
    case wrongSigner(path: String, project: String)
    /// A site card that does not fit the operation (wrong role, revoked key, name taken…).
    case refusedCard(path: String, reason: String, hint: String)
    /// A workspace that does not fit the operation.
    case workspace(path: String, reason: String, hint: String)
    /// A site name that is not a member of the federation.
    case notAMember(name: String, project: String, members: [String])
    /// A file could not be written.
    case io(path: String, operation: String, reason: String)

    /// The message shown to the user, with a hint line.
    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): \(reason)\n    hint: copy the file again from its source; it is written by ferry and must not be edited"
        case let .tampered(path, kind, reason):
            return "\(path): the \(kind)'s signature does not verify (\(reason)): it was changed after it was signed; refused\n    hint: get the original file again from its site, and check its fingerprint with that site's operator"
        case let .replayed(path, serial, accepted):
            return "\(path): federation file serial \(serial) is not newer than serial \(accepted), which this site has already accepted; refused (an old copy was put back, or the file was rewritten)\n    hint: wait for the server to publish a newer one, or ask the coordinator to run `ferry federation add|remove` again, which publishes serial \(accepted + 1)"
        case let .wrongSigner(path, project):
            return "\(path): the federation file is not signed by the server key this site pinned for federation '\(project)'; refused\n    hint: if the server rotated its key, run `ferry site join WORKSPACE NEW_SERVER_CARD` with its new card (checked by its fingerprint)"
        case let .refusedCard(path, reason, hint):
            return "\(path): \(reason)\n    hint: \(hint)"
        case let .workspace(path, reason, hint):
            return "\(path): \(reason)\n    hint: \(hint)"
        case let .notAMember(name, project, members):
            return "'\(name)' is not a member of federation '\(project)' (members: \(members.isEmpty ? "none" : members.joined(separator: ", ")))\n    hint: `ferry federation show SERVER_WORKSPACE` lists the members"
        case let .io(path, operation, reason):
            return "\(path): cannot \(operation): \(reason)"
        }
    }
}
