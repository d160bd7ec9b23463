import ArgumentParser

@main
struct Csumlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csumlab",
        abstract: "Make Linux checksum offload in virtual networks visible, hop by hop.",
        version: "csumlab \(Csumlab.version)",
        subcommands: [ExploreCommand.self, TraceCommand.self, CheckCommand.self, FixCommand.self, NewCommand.self, VerifyCommand.self, ExportCommand.self, LessonCommand.self],
        defaultSubcommand: ExploreCommand.self)

    /// The release this binary is; `csumlab --version` prints it.
    static let version = "0.6.0"

    /// ArgumentParser's own `main`, except that a failed write to standard output ends the
    /// process as `OutputFailure.exit` says (SIGPIPE for a closed pipe, 74 otherwise).
    static func main() {
        StandardOutput.occupyClosedStandardDescriptors()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as OutputFailure {
            failure.exit()
        } catch let failure as ValidationFailure {
            // Already the line(s) to read: compiler-style `file:line:column: error: …` from a
            // file, or a sentence; ArgumentParser would prefix a second "Error:".
            printError(failure.printed)
            exit(withError: ExitCode.failure)
        } catch {
            exit(withError: error)
        }
    }
}
