import ArgumentParser

@main
struct Csumlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csumlab",
        abstract: "Make Linux checksum offload in virtual networks visible, hop by hop.",
        subcommands: [ExploreCommand.self, TraceCommand.self, CheckCommand.self, FixCommand.self, VerifyCommand.self],
        defaultSubcommand: ExploreCommand.self)
}
