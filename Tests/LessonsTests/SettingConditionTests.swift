import Lessons
import Simulation
import Testing
import TopologyFile

/// `{set: …}` asks what the lab *is*, not how the file spells it: a default written out holds.
@Suite struct SettingConditionTests {
    @Test func aSpelledOutDefaultHoldsAndAChangeDoesNot() throws {
        let lab = try TopologyFile.load(path: repositoryRoot + "/topologies/seed-routed-userspace.yaml").topology
        let trace = try Simulator(lab).run()
        // The seed file leaves vm1's tx at its default (on).
        #expect(GoalCondition.setting("vm1.eth0.tx=on").holds(live: lab, trace: trace, defaultFlow: nil))
        #expect(!GoalCondition.setting("vm1.eth0.tx=off").holds(live: lab, trace: trace, defaultFlow: nil))
        var off = lab
        try off.apply(assignment: "vm1.eth0.tx=off")
        let offTrace = try Simulator(off).run()
        #expect(GoalCondition.setting("vm1.eth0.tx=off").holds(live: off, trace: offTrace, defaultFlow: nil))
        #expect(!GoalCondition.setting("vm1.eth0.tx=on").holds(live: off, trace: offTrace, defaultFlow: nil))
        #expect(GoalCondition.setting("router.flavour=userspace").holds(live: lab, trace: trace, defaultFlow: nil))
        #expect(!GoalCondition.setting("kernel=linux-4.4").holds(live: lab, trace: trace, defaultFlow: nil))
    }
}
