import Testing
import Simulation
@testable import TopologyFile

private func diagnostics(_ text: String) -> [Diagnostic] {
    do {
        _ = try TopologyFile.parse(text, file: "lab.yaml")
        return []
    } catch {
        return error.diagnostics
    }
}

/// Item 3 of issue 10: one rule for names, enforced where files, `--set` and edits meet.
@Suite struct NameRuleTests {
    @Test(arguments: ["vm1", "eth0", "veth-a_b", "_", "日本", "café", "cafe\u{301}", "Ελλάδα", "٣٤", String(repeating: "x", count: 64)])
    func validNames(_ name: String) {
        #expect(NameRule.problem(name) == nil, "\(name.debugDescription)")
    }

    @Test(arguments: ["", "v.m 1", "a:b", "a b", "a\0", "a\n", "a\u{1B}]0;PWNED\u{7}", "a\u{9B}", "a/b", "a=b", "x\u{200B}", "€", String(repeating: "x", count: 65)])
    func invalidNames(_ name: String) {
        #expect(NameRule.problem(name) != nil, "\(name.debugDescription)")
    }

    @Test func badNamesInAFileAreLocated() {
        let text = """
        csumlab: 1
        nodes:
          "v.m 1": {kind: netns}
          ok:
            kind: vm
            interfaces:
              "e:0": {}
          "a\\e]0;PWNED\\a": {kind: tap}
        flows:
          "x y": {type: tcp, from: ok, to: ok}

        """
        let e = diagnostics(text)
        #expect(e.map { [$0.line, $0.column] } == [[3, 3], [7, 7], [8, 3], [10, 3]])
        #expect(e[0].message.hasPrefix("invalid node name 'v.m 1': '.' (U+002E) is not allowed in a name; a name holds 1–64"))
        #expect(e[1].message.hasPrefix("invalid interface name 'e:0' in 'ok'"))
        #expect(e[2].message.hasPrefix("invalid node name 'a\\e]0;PWNED\\a': U+001B is not allowed"))
        #expect(e[3].message.hasPrefix("invalid flow name 'x y': a space (U+0020)"))
    }

    @Test func freeTextKeepsLayoutButNoOtherControls() {
        let fine = "csumlab: 1\nname: \"lab one\"\ndescription: \"two\\nlines\\tand a tab\"\nnodes: {}\n"
        #expect(diagnostics(fine).isEmpty)
        let bad = "csumlab: 1\ndescription: \"clear \\e[2J\"\nnodes: {}\n"
        #expect(diagnostics(bad).map(\.description) == ["lab.yaml:2:14: error: 'description': control character U+001B is not allowed here (newlines and tabs are)"])
        let badName = "csumlab: 1\nname: \"a\\nb\"\nnodes: {}\n"
        #expect(diagnostics(badName).map { [$0.line, $0.column] } == [[2, 7]])
        let badLeg = "csumlab: 1\nnodes: {}\nflows:\n  f: {type: tcp, from: a, to: b, expect: {verdict: fails, leg: \"\\a\"}}\n"
        #expect(diagnostics(badLeg).contains { $0.message.hasPrefix("'leg': control character U+0007") })
    }

    /// A rename through an edit form is validated like a file.
    @Test func validateChecksNamesOfAnEditedTopology() throws {
        var t = try TopologyFile.parse("csumlab: 1\nnodes:\n  br0: {kind: bridge}\n", file: "lab.yaml").topology
        #expect(TopologyFile.validate(t, file: "lab.yaml").isEmpty)
        t.nodes[0].name = "br.0"
        #expect(TopologyFile.validate(t, file: "lab.yaml").first?.message.hasPrefix("invalid node name 'br.0'") == true)
    }
}
