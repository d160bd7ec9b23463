import Foundation
import Testing
import Simulation
import TopologyFile
import TraceReport

/// Golden traces: the `--json` output of every shipped topology compared with a checked-in
/// copy. Goldens only catch regressions — correctness comes from the element tests, the naive
/// reference and the real kernel. Regenerate after an intended change with
/// `CSUMLAB_UPDATE_GOLDEN=1 swift test --filter GoldenTraceTests` and review the diff.
@Suite struct GoldenTraceTests {
    static let goldenDir = repoRoot + "/Tests/SimulationTests/Golden"

    @Test(arguments: shippedTopologyPaths())
    func matchesGolden(path: String) throws {
        let loaded = try TopologyFile.load(path: path)
        let json = TraceJSON.render(try Simulator(loaded.topology).run(), topology: loaded.topology)
        let name = String(path.split(separator: "/").last!.dropLast(5))
        let golden = Self.goldenDir + "/" + name + ".json"
        if ProcessInfo.processInfo.environment["CSUMLAB_UPDATE_GOLDEN"] == "1" {
            try FileText.writeAtomically(json, to: golden)
            return
        }
        let expected = try #require(try? FileText.read(golden), "missing golden \(golden); run with CSUMLAB_UPDATE_GOLDEN=1")
        if expected != json {
            let report: String = "trace of \(name) changed:\n" + Self.diff(expected, json)
            Issue.record(Comment(rawValue: report))
        }
    }

    /// The first differing lines, with line numbers.
    static func diff(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false)
        var out: [String] = []
        for i in 0..<max(x.count, y.count) where out.count < 24 {
            let l = i < x.count ? String(x[i]) : "<end>"
            let r = i < y.count ? String(y[i]) : "<end>"
            if l != r { out.append("line \(i + 1):\n  - " + l + "\n  + " + r) }
        }
        return out.joined(separator: "\n")
    }

    @Test(arguments: shippedTopologyPaths())
    func jsonMatchesTheSchema(path: String) throws {
        let schema = try JSONSchemaValidator(schemaText: FileText.read(repoRoot + "/assets/trace-schema.json"))
        let loaded = try TopologyFile.load(path: path)
        let json = TraceJSON.render(try Simulator(loaded.topology).run(), topology: loaded.topology)
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8))
        let errors = schema.validate(value)
        #expect(errors.isEmpty, "\(path): \(errors.prefix(5).joined(separator: "; "))")
    }

    /// The validator itself catches violations (so the schema test can fail).
    @Test func schemaValidatorRejectsBadDocuments() throws {
        let schema = try JSONSchemaValidator(schemaText: FileText.read(repoRoot + "/assets/trace-schema.json"))
        #expect(!schema.validate(["schema": "csumlab-trace", "version": 2]).isEmpty)
        let loaded = try loadShipped("seed-bridged")
        let json = TraceJSON.render(try Simulator(loaded.topology).run(), topology: loaded.topology)
        var value = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        value["extra"] = 1
        #expect(schema.validate(value).contains { $0.contains("unexpected key 'extra'") })
        var flows = value["flows"] as! [[String: Any]]
        flows[0]["kind"] = "sctp"
        value["flows"] = flows
        #expect(schema.validate(value).contains { $0.contains("not in enum") })
        // Version 3: each leg's readerFrames, a vnet header or null, lengths from 14.
        var legs = flows[0]["legs"] as! [[String: Any]]
        var frames = try #require(legs.first { !($0["readerFrames"] as! [Any]).isEmpty }?["readerFrames"] as? [[String: Any]])
        frames[0]["vnet"] = "none"
        frames[0]["frameLength"] = 3
        legs[0]["readerFrames"] = frames
        legs[1].removeValue(forKey: "readerFrames")
        flows[0]["legs"] = legs
        value["flows"] = flows
        let errors = schema.validate(value)
        #expect(errors.contains { $0.contains("missing 'readerFrames'") })
        #expect(errors.contains { $0.contains("readerFrames[0].vnet: matches 0 of the oneOf branches") })
        #expect(errors.contains { $0.contains("readerFrames[0].frameLength: 3 is below the minimum 14") })
    }
}
