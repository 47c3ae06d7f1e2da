import FerryWorkspace

/// Ties a message to the site whose key signed it: a site speaks only for itself. The transfer layer
/// accepts any trusted key; without this check a trusted client could send results as another site by
/// naming it in `ferry.site` or in the manifest's `sender`.
enum SenderBinding {
    /// Why `message` is refused, or nil when both the site it claims (`ferry.site`) and its manifest's
    /// sender are the site whose trusted key signed it. A site that trusts no key (none in `trusted/`)
    /// has nothing to bind to.
    static func refusal(of message: IncomingMessage, trusting workspace: SiteWorkspace) -> String? {
        guard !workspace.trustedKeys.isEmpty else { return nil }
        guard let signer = message.signer else {
            return "it claims to come from '\(message.site)' but is not signed"
        }
        let owners = workspace.trustedKeys.filter { SiteKeys.encode($0.value) == signer }.map(\.key).sorted()
        guard let owner = owners.first else {
            return "it claims to come from '\(message.site)' but is signed by a key this site does not trust (\(signer))"
        }
        if owners.contains(message.site) && owners.contains(message.sender) { return nil }
        let claim = message.site == message.sender ? "'\(message.site)'" : "'\(message.site)' (manifest sender '\(message.sender)')"
        return "it claims to come from \(claim) but is signed by the key of '\(owner)'; a site may only send as itself"
    }
}
