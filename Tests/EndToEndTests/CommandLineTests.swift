@testable import csumlab
import Testing

/// How the command line parses, without running anything.
@Suite struct CommandLineTests {
    @Test func noArgumentsOpensTheExplorer() throws {
        let command = try Csumlab.parseAsRoot([])
        let explore = try #require(command as? ExploreCommand)
        #expect(explore.file == nil)
    }

    @Test func exploreTakesAFile() throws {
        let explore = try #require(try Csumlab.parseAsRoot(["explore", "topologies/seed-bridged.yaml"]) as? ExploreCommand)
        #expect(explore.file == "topologies/seed-bridged.yaml")
    }

    @Test func traceStillNeedsItsFile() {
        #expect(throws: (any Error).self) { try Csumlab.parseAsRoot(["trace"]) }
    }
}
