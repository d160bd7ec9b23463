import Foundation
import Testing
import Simulation
import TopologyFile
import TraceReport

/// Text from a file never reaches the terminal raw: a topology built in code (so no validation
/// stands in the way) with control characters in every kind of name and in its description.
@Suite struct TraceTextEscapeTests {
    static let hostile = "a\u{1B}]0;PWNED\u{07}\u{1B}[2J"

    /// seed-bridged with `vm1`, `br0`, the `ssh` flow, an interface, the lab and its
    /// description renamed to text holding ESC, BEL, CR, DEL and a C1 CSI.
    static func hostileTopology() throws -> Topology {
        var t = try loadShipped("seed-bridged").topology
        func rename(_ old: String, _ new: String) {
            for i in t.nodes.indices where t.nodes[i].name == old { t.nodes[i].name = new }
            for i in t.links.indices {
                if t.links[i].a.node == old { t.links[i].a.node = new }
                if t.links[i].b.node == old { t.links[i].b.node = new }
            }
            for i in t.flows.indices {
                if t.flows[i].from == old { t.flows[i].from = new }
                if t.flows[i].to == old { t.flows[i].to = new }
            }
        }
        rename("vm1", hostile)
        rename("br0", "b\u{9B}31m\u{7F}r\r")
        t.flows[0].name = "f\u{1B}[5m\u{0}"
        t.name = "lab\u{1B}]2;x\u{07}"
        t.description = "line one\u{1B}[31m\n\tindented\u{07} line"
        return t
    }

    static func controls(_ s: String) -> [UInt32] {
        s.unicodeScalars.map(\.value).filter { ($0 < 0x20 && $0 != 0x0A && $0 != 0x09) || (0x7F...0x9F).contains($0) }
    }

    @Test(arguments: [false, true])
    func theTableAndExplanationsHoldNoControlCharacters(verbose: Bool) throws {
        let t = try Self.hostileTopology()
        let text = TraceText.render(try Simulator(t).run(), topology: t, verbose: verbose)
        #expect(Self.controls(text).isEmpty, "raw controls: \(Self.controls(text))")
        #expect(!text.utf8.contains(0x1B) && !text.utf8.contains(0x07))
        #expect(text.contains("a\\e]0;PWNED\\a\\e[2J"), "the name is shown, escaped")
        #expect(text.contains("flow f\\e[5m\\0 "))
        #expect(text.contains("csumlab trace: lab\\e]2;x\\a "))
        // No tab outside the description's own line: tabs are layout only there.
        #expect(text.split(separator: "\n").filter { $0.contains("\t") }.allSatisfy { $0.contains("indented") })
        #expect(text.contains("line one\\e[31m\n"), "the description keeps its newline")
    }

    @Test func jsonEscapesEveryControlCharacterAndRoundTrips() throws {
        let t = try Self.hostileTopology()
        let json = TraceJSON.render(try Simulator(t).run(), topology: t)
        #expect(Self.controls(json).isEmpty && !json.contains("\t"), "raw controls: \(Self.controls(json))")
        let value = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let flows = try #require(value["flows"] as? [[String: Any]])
        #expect(flows.contains { $0["from"] as? String == Self.hostile }, "JSON keeps the name exactly")
        #expect(json.contains("\\u001b]0;PWNED\\u0007\\u001b[2J"))
        #expect(json.contains("b\\u009b31m\\u007fr\\r"))
    }
}
