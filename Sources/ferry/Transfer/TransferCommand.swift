import ArgumentParser

/// `ferry transfer …`: send and receive files and models through inbox folders.
struct TransferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Stream files and models chunk by chunk through inbox folders.",
        subcommands: [TransferSendCommand.self, TransferReceiveCommand.self, TransferKeygenCommand.self]
    )
}
