import Testing
import Yams
@testable import TopologyFile

/// What Yams itself makes of `text`: whether its tree holds an anchor (an alias resolves to an
/// anchored node, an alias without anchor fails as "undefined alias"), or nil when Yams stops with
/// another error first (then it never reads further, and the gate's verdict cannot be compared).
/// Only for texts whose aliases expand to little: no bombs here.
func yamsSeesAnchorOrAlias(_ text: String) -> Bool? {
    // Anchors are weak references kept alive by the parser: inspect while it lives.
    guard let parser = try? Yams.Parser(yaml: text) else { return nil }
    do {
        let root = try parser.singleRoot()
        return withExtendedLifetime(parser) { root.map(hasAnchor) ?? false }
    } catch let YamlError.composer(_, problem, _, _) where problem.contains("undefined alias") {
        return true
    } catch {
        return nil
    }
}

private func hasAnchor(_ n: Yams.Node) -> Bool {
    switch n {
    case let .scalar(s): return s.anchor != nil
    case let .sequence(s): return s.anchor != nil || s.contains(where: hasAnchor)
    case let .mapping(m): return m.anchor != nil || m.contains { hasAnchor($0.key) || hasAnchor($0.value) }
    case .alias: return true
    }
}

@Suite struct YAMLGateTests {
    /// `&` and `*` that are text, in every place YAML has text; the gate must let them through,
    /// and Yams agrees that none of them is an anchor or alias.
    static let textNotAnchors = [
        "description: R&D *and* more\n",
        "description: see a *b & c\n",
        "a: x &y\n",
        "a: \"&y *z\"\n",
        "a: '&y *z'\n",
        "a: 'it''s &y'\n",
        "a: \"q\\\" &y\"\n",
        "a: 1 # &anchor *alias\n",
        "# &a\n*b: 1\n".replacingOccurrences(of: "*b", with: "b"),
        "a: |\n  &x\n  *y\nb: 2\n",
        "a: >-\n  &x\n\n  *y\nb: 2\n",
        "- |2\n   &x\n  *y\n",
        "a: foo\n  *bar &baz\n",
        "- foo\n  *bar\n",
        "a:\n  b: one\n   &two\n",
        "a: [x&y, z*w]\n",
        "a: {k: v&w}\n",
        "a: !tag&x v\n",
        "a: !<tag:x&y> v\n",
        "a: \"multi\n  &line\"\n",
        "a: 'multi\n\n  *line'\n",
        "top\n  &continued\n",
        "%YAML 1.1 &x\n---\na: 1\n",
        "a: -&x\n",
        "a: ?&x\n",
        "a: :&x\n",
    ]

    /// Anchors and aliases at every place a token starts.
    static let anchorsAndAliases: [(text: String, line: Int, column: Int)] = [
        ("a: &x 1\nb: *x\n", 1, 4),
        ("- *x\n", 1, 3),
        ("&x a: 1\n", 1, 1),
        ("a:\n  &x b: 1\n", 2, 3),
        ("[a, &x b]\n", 1, 5),
        ("{a: *x}\n", 1, 5),
        ("{\"a\":&x 1}\n", 1, 6),
        ("[?&x a]\n", 1, 3),
        ("a: !t &x v\n", 1, 7),
        ("? *i\n: v\n", 1, 3),
        ("a: |\n  text\n&x b: 1\n", 3, 1),
        ("a: foo\n&x b: 1\n", 2, 1),
        ("a:\n  b: one\n  &x c: 2\n", 3, 3),
        ("a: 'q'\n*x : 1\n", 2, 1),
        ("--- &x\na: 1\n", 1, 5),
        ("a: [x,\n  *y]\n", 2, 3),
    ]

    @Test(arguments: textNotAnchors)
    func textIsNotAnAnchor(_ text: String) {
        #expect(YAMLGate.check(text) == nil, "\(text.debugDescription)")
        #expect(yamsSeesAnchorOrAlias(text) != true, "\(text.debugDescription): Yams sees an anchor")
    }

    @Test(arguments: anchorsAndAliases)
    func anchorOrAliasIsRefusedWhereItStands(_ c: (text: String, line: Int, column: Int)) {
        let p = YAMLGate.check(c.text)
        #expect(p?.line == c.line && p?.column == c.column, "\(c.text.debugDescription): \(String(describing: p))")
        #expect(p?.message.contains("not supported") == true)
        #expect(yamsSeesAnchorOrAlias(c.text) != false, "\(c.text.debugDescription): Yams sees none")
    }

    /// The issue's 337-byte bomb, keys and values, several depths: refused at the first anchor,
    /// before Yams composes anything (without the gate this never returns).
    @Test(arguments: [2, 5, 9, 20])
    func aliasBombIsRefusedBeforeComposing(levels: Int) {
        var text = "csumlab: 1\nnodes: {}\n"
        text += "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<levels { text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        text += "? *a\(levels - 1)\n: boom\n"
        do {
            _ = try TopologyFile.parse(text, file: "bomb.yaml")
            Issue.record("a bomb loaded")
        } catch {
            #expect(error.diagnostics.map(\.description) == ["bomb.yaml:3:5: error: YAML anchors (&name) are not supported in topology files: write the value out"])
        }
    }

    @Test func controlCharacterIsLocated() {
        let p = YAMLGate.check("csumlab: 1\nnodes:\n  v\u{1B}m: {kind: vm}\n")
        #expect(p == YAMLGate.Problem(line: 3, column: 4, message: p?.message ?? ""))
        #expect(p?.message.contains("U+001B") == true)
        #expect(YAMLGate.check("a: b\u{7F}\n")?.column == 5)
        #expect(YAMLGate.check("a: \"é\u{85}x\"\n") == nil)            // NEL is a line break, allowed
        #expect(YAMLGate.check("a: é\u{9B}\n")?.column == 5)           // C1 CSI
        #expect(YAMLGate.check("a:\tb\r\nc: \u{0}\n")?.line == 2)
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 100_000)
        let p = YAMLGate.check(deep)
        #expect(p?.line == 1 && p?.column == YAMLGate.maxDepth + 1)
        #expect(p?.message.contains("nested") == true)
        var block = ""
        for i in 0..<100 { block += String(repeating: " ", count: i) + "k:\n" }
        #expect(YAMLGate.check(block)?.line == YAMLGate.maxDepth + 1)
        #expect(YAMLGate.check(String(repeating: "[", count: 60) + String(repeating: "]", count: 60)) == nil)
    }

    @Test func tokensAreCounted() {
        var limits = YAMLGate.Limits()
        limits.maxTokens = 100
        let list = "[" + Array(repeating: "a", count: 60).joined(separator: ",") + "]"
        let p = YAMLGate.check(list, limits: limits)
        #expect(p?.message.contains("more than 100 YAML tokens") == true)
        #expect(p?.column == 101)   // token 101: "[" and 100 characters of "a,a,…" before it
        #expect(YAMLGate.check(list) == nil)
    }

    @Test func sizeIsCapped() {
        var limits = YAMLGate.Limits()
        limits.maxBytes = 10
        #expect(YAMLGate.check("a: 1234567\n", limits: limits)?.message == YAMLGate.sizeMessage)
        #expect(YAMLGate.check("a: 123456\n", limits: limits) == nil)
    }
}
