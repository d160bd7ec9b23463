#if canImport(Glibc)
import Glibc
#endif
import Testing
import Simulation
@testable import KernelLab

/// `verify` decides by a step's typed event, never by its prose: rewording every sentence of a
/// trace must not change one check.
@Suite struct StepEventMatchingTests {
    static let shippedNames: [String] = {
        guard let d = opendir(Shipped.root + "/topologies") else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasSuffix(".yaml") { names.append(String(name.dropLast(5))) }
        }
        return names.sorted()
    }()

    @Test func shippedTopologiesAreFound() {
        #expect(Self.shippedNames.count > 10)
    }

    @Test(arguments: shippedNames)
    func legChecksIgnoreTheNarration(_ name: String) throws {
        let (_, trace, plan) = try Shipped.prepared(name)
        for flow in trace.flows {
            for leg in flow.legs {
                var reworded = leg
                for i in reworded.steps.indices {
                    reworded.steps[i].function = "reworded \(i)"
                    reworded.steps[i].explanation = "reworded"
                }
                #expect(LegCheck.make(reworded, plan: plan) == LegCheck.make(leg, plan: plan), "\(name) \(flow.flow) \(leg.name)")
                #expect(Capture.implied(by: reworded.steps, plan: plan) == Capture.implied(by: leg.steps, plan: plan))
            }
        }
    }
}
