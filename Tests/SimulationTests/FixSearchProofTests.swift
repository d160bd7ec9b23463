import Testing
@testable import Simulation
import TestSupport

/// The search's proof (a set is decided without a walk when one of its changes cannot reach the
/// flow that failed without it) against the same search walking every set.
@Suite struct FixSearchProofTests {
    @Test(arguments: [("mtu-jumbo-router", 2), ("frame-injection", 2), ("seed-routed-userspace", 3), ("conntrack-invalid", 2),
                      ("tap-header-refusals", 2)])
    func proofChangesNoResult(name: String, maxChanges: Int) throws {
        let t = try loadShipped(name).topology
        let s = try FixSearch(t, problems: FixSearchTests.problems)
        let proved = try #require(s.run(maxChanges: maxChanges, proveFailures: true))
        let walked = try #require(s.run(maxChanges: maxChanges, proveFailures: false))
        #expect(walked.decided == 0)
        #expect(FixSearchTests.sets(proved) == FixSearchTests.sets(walked), "\(name)")
        #expect(proved.searchedUpTo == walked.searchedUpTo, "\(name)")
        #expect(proved.bestPartial?.changes == walked.bestPartial?.changes, "\(name)")
        #expect(proved.bestPartial?.works == walked.bestPartial?.works, "\(name)")
        // Every set the plain search walked is walked or decided by the proof, never lost.
        #expect(proved.evaluated + proved.decided == walked.evaluated, "\(name)")
        if name == "mtu-jumbo-router" { #expect(proved.decided > 0, "the proof decided nothing: this test checks nothing of it") }
    }
}
