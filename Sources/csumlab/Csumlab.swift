import ArgumentParser

@main
struct Csumlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csumlab",
        abstract: "Make Linux checksum offload in virtual networks visible, hop by hop.",
        subcommands: [ExploreCommand.self, TraceCommand.self, CheckCommand.self, FixCommand.self, NewCommand.self, VerifyCommand.self, LessonCommand.self],
        defaultSubcommand: ExploreCommand.self)

    /// ArgumentParser's own `main`, except that a failed write to standard output ends the
    /// process as `OutputFailure.exit` says (SIGPIPE for a closed pipe, 74 otherwise).
    static func main() {
        StandardOutput.occupyClosedStandardDescriptors()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as OutputFailure {
            failure.exit()
        } catch {
            exit(withError: error)
        }
    }
}
