import ArgumentParser
import FerrySupport
import FerryTransfer

/// `ferry transfer keygen PATH`: an X25519 key pair for standalone sealed transfers.
struct TransferKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an X25519 key pair for sealed transfers (PATH private, PATH.pub public).",
        discussion: """
        Writes the private key to PATH (mode 0600; give it to `ferry transfer receive --key`) and the \
        public key to PATH.pub (give it to the sender's `ferry transfer send --to`). Site workspaces \
        have their own pair (keys/encryption.key): pass the workspace folder instead.

        Example:
          ferry transfer keygen receiver.key
        """
    )

    @Argument(help: ArgumentHelp("Where to write the private key (the public key goes to PATH.pub).", valueName: "PATH"))
    var path: String

    func run() throws {
        guard !FileSystem.exists(path) else {
            throw ValidationError("\(path) exists; give a new path (an existing key is never overwritten)")
        }
        let key = TransferDecryptionKey.generate()
        try key.save(path: path)
        try FileSystem.write(Array((key.publicKey.base64 + "\n").utf8), to: path + ".pub")
        print("wrote \(path) (private, 0600) and \(path).pub (public): \(key.publicKey.base64)")
    }
}
