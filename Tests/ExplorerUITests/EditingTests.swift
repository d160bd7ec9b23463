import ExplorerUI
import Simulation
import Testing
import TopologyFile

/// Live editing in the explorer, driven by keys as a user would: each edit kind applies, undoes
/// and redoes to the same lab, trace and file; refused edits change nothing.
@Suite struct EditingTests {
    /// What an edit must restore exactly: the lab, its trace, and the file it would save.
    struct Snapshot: Equatable, CustomStringConvertible {
        var description: String { "lab \(topology.name): \(topology.nodes.count) nodes, \(topology.links.count) links, \(topology.flows.count) flows, file \(file.count) bytes" }
        var topology: Topology
        var trace: Trace
        var file: String
        init(_ s: ExplorerState) {
            topology = s.topology
            trace = s.trace
            file = s.fileText
        }
    }

    func seed() throws -> ExplorerState {
        let loaded = try TopologyFile.parse(DefaultLab.text, file: DefaultLab.fileName)
        return ExplorerState(document: try LabDocument(structure: loaded.topology, expectations: loaded.expectations, path: nil, label: "seed"))
    }

    func type(_ s: inout ExplorerState, _ text: String) {
        for c in text { s.handle(.key(.char(c))) }
    }

    /// Clear the focused form field.
    func clear(_ s: inout ExplorerState) {
        for _ in 0..<80 { s.handle(.key(.backspace)) }
    }

    /// Move the form's focus to the field with this key.
    func focus(_ s: inout ExplorerState, field key: String) throws {
        guard case let .form(f) = s.overlay else { Issue.record("no form open"); return }
        let i = try #require(f.fields.firstIndex { $0.key == key }, "no field \(key)")
        for _ in 0..<((i - f.focused + f.fields.count) % f.fields.count) { s.handle(.key(.tab)) }
    }

    /// Apply `edit` (keys), then check undo gives the lab before and redo the lab after.
    func checkUndoRedo(_ s: inout ExplorerState, sourceLocation: SourceLocation = #_sourceLocation, _ edit: (inout ExplorerState) throws -> Void) rethrows {
        let before = Snapshot(s)
        try edit(&s)
        let after = Snapshot(s)
        #expect(after != before, "the edit changed nothing: \(s.message ?? "")", sourceLocation: sourceLocation)
        s.handle(.key(.char("u")))
        #expect(s.message?.hasPrefix("undone: ") == true, sourceLocation: sourceLocation)
        #expect(Snapshot(s) == before, "undo did not restore the lab", sourceLocation: sourceLocation)
        s.handle(.key(.ctrl("r")))
        #expect(s.message?.hasPrefix("redone: ") == true, sourceLocation: sourceLocation)
        #expect(Snapshot(s) == after, "redo did not give the edited lab", sourceLocation: sourceLocation)
    }

    @Test(arguments: NodeTemplate.allCases)
    func addEveryKind(_ template: NodeTemplate) throws {
        var s = try seed()
        let n = s.topology.nodes.count
        try checkUndoRedo(&s) { s in
            s.handle(.key(.char("a")))
            let i = try #require(NodeTemplate.allCases.firstIndex(of: template))
            for _ in 0..<i { s.handle(.key(.down)) }
            s.handle(.key(.enter))
            #expect(s.selectedNode == s.topology.nodes.last?.name)
        }
        #expect(s.topology.nodes.count == n + 1)
        let added = try #require(s.topology.nodes.last)
        #expect(s.changedNodes.contains(added.name))
        // The new name is free and valid; the lab still validates.
        #expect(NameRule.isValid(added.name))
        #expect(TopologyFile.validate(s.topology, file: "t").isEmpty)
    }

    @Test func deleteAsksListsWhatGoesAndUndoRestoresIt() throws {
        var s = try seed()
        s.perform(.selectNode("vm2"))
        let before = Snapshot(s)
        s.handle(.key(.char("d")))
        guard case let .confirm(q) = s.overlay else { Issue.record("no question"); return }
        #expect(q.lines.contains("link tap2 – vm2:eth0") || q.lines.contains("link vm2:eth0 – tap2"))
        #expect(q.lines.contains("flow ssh") && q.lines.contains("flow ping"))
        // n keeps everything.
        s.handle(.key(.char("n")))
        #expect(Snapshot(s) == before)
        s.handle(.key(.delete))
        s.handle(.key(.char("y")))
        #expect(s.topology.node(named: "vm2") == nil)
        #expect(s.topology.flows.isEmpty)
        #expect(!s.topology.links.contains { $0.a.node == "vm2" || $0.b.node == "vm2" })
        #expect(!s.fileText.contains("vm2"))
        s.handle(.key(.char("u")))
        #expect(Snapshot(s) == before)
        // The expectations came back with the flows (the file says them).
        #expect(s.fileText.contains("expect: {verdict: fails, leg: SYN}"))
    }

    @Test func linkAndUnlinkOfferOnlyValidPairs() throws {
        var s = try seed()
        // A new veth pair: link one end to br1, then unlink it.
        s.handle(.key(.char("a")))
        let vi = try #require(NodeTemplate.allCases.firstIndex(of: .veth))
        for _ in 0..<vi { s.handle(.key(.down)) }
        s.handle(.key(.enter))
        let veth = s.selectedNode
        func choose(_ s: inout ExplorerState, _ match: (String) -> Bool) throws {
            s.handle(.key(.char("x")))
            let i = try #require(s.linkChoices.firstIndex { match($0.label) }, "no such link in \(s.linkChoices.map(\.label))")
            for _ in 0..<i { s.handle(.key(.down)) }
            s.handle(.key(.enter))
        }
        try checkUndoRedo(&s) { s in
            try choose(&s) { $0.hasPrefix("link") && $0.contains("br1") }
            #expect(s.topology.links.contains { Set([$0.a.node, $0.b.node]) == [veth, "br1"] })
        }
        try checkUndoRedo(&s) { s in
            try choose(&s) { $0.hasPrefix("unlink") }
            #expect(!s.topology.links.contains { $0.a.node == veth || $0.b.node == veth })
        }
        // Unlinking what a flow needs is refused with the validator's reason.
        s.perform(.selectNode("tap1"))
        let before = Snapshot(s)
        try choose(&s) { $0.hasPrefix("unlink") && $0.contains("br1") }
        #expect(Snapshot(s) == before)
        #expect(s.message?.contains("not possible here") == true)
        // Every link offered makes a valid lab.
        s.perform(.selectNode("br1"))
        for c in s.linkChoices where c.label.hasPrefix("link") {
            var t = s.document.current.structure
            try t.apply(c.edit)
            #expect(TopologyFile.validate(t, file: "t").isEmpty, "\(c.label) gives an invalid lab")
        }
    }

    @Test func renameFollowsLinksFlowsAndToggles() throws {
        var s = try seed()
        try InteractionTests().toggle(&s, node: "vm1", setting: "eth0 tx-checksumming")
        #expect(s.assignments == ["vm1.eth0.tx-checksumming=off"])
        s.perform(.selectNode("vm1"))
        checkUndoRedo(&s) { s in
            s.handle(.key(.char("e")))
            clear(&s)
            type(&s, "web")
            s.handle(.key(.enter))
        }
        #expect(s.overlay == nil)
        #expect(s.topology.node(named: "web") != nil)
        #expect(s.topology.flows.allSatisfy { $0.from == "web" })
        #expect(s.topology.links.contains { $0.a.description == "web:eth0" || $0.b.description == "web:eth0" })
        #expect(s.assignments == ["web.eth0.tx-checksumming=off"])
        #expect(s.selectedNode == "web")
    }

    /// An expected failing leg names its hosts ("data vm1→vm2"): renaming vm1 carries it, so
    /// the saved file still states what the lab does.
    @Test func expectationsFollowARename() throws {
        let loaded = try TopologyFile.load(path: packageRoot + "/topologies/conntrack-invalid.yaml")
        var s = ExplorerState(document: try LabDocument(structure: loaded.topology, expectations: loaded.expectations, path: nil, label: "ct"))
        s.perform(.selectNode("vm1"))
        s.handle(.key(.char("e")))
        clear(&s)
        type(&s, "client")
        s.handle(.key(.enter))
        #expect(s.topology.node(named: "client") != nil)
        #expect(s.fileText.contains("leg: \"data client→vm2\""))
        #expect(!s.fileText.contains("vm1"))
        // The saved text loads, and its expectations hold for the renamed lab.
        let again = try TopologyFile.parse(s.fileText, file: "renamed")
        let trace = try Simulator(again.topology).run()
        for f in trace.flows {
            guard let e = again.expectations[f.flow], e.verdict == .fails else { continue }
            #expect(f.verdict.failedLeg == e.leg, "flow \(f.flow)")
        }
    }

    @Test func refusedEditsSayWhyAndChangeNothing() throws {
        var s = try seed()
        s.perform(.selectNode("vm1"))
        let before = Snapshot(s)
        s.handle(.key(.char("e")))
        clear(&s)
        type(&s, "vm2")
        s.handle(.key(.enter))
        guard case let .form(f) = s.overlay else { Issue.record("the form closed on a refused edit"); return }
        #expect(f.error?.contains("vm2") == true)
        #expect(Snapshot(s) == before)
        // A name outside the validator's character set.
        clear(&s)
        type(&s, "a.b")
        s.handle(.key(.enter))
        if case let .form(f) = s.overlay { #expect(f.error != nil) } else { Issue.record("form closed") }
        s.handle(.key(.escape))
        #expect(Snapshot(s) == before)
        #expect(!s.document.canUndo)
    }

    @Test func addressesAndGateways() throws {
        var s = try seed()
        s.perform(.selectNode("vm2"))
        try checkUndoRedo(&s) { s in
            s.handle(.key(.char("e")))
            try focus(&s, field: "if.eth0.address")
            clear(&s)
            type(&s, "10.0.2.9/24, fd00:2::9/64")
            s.handle(.key(.enter))
        }
        #expect(s.overlay == nil)
        #expect(s.topology.node(named: "vm2")?.interfaces.first?.addresses.map(\.description) == ["10.0.2.9/24", "fd00:2::9/64"])
        // Off the router's subnet, vm2 cannot be reached: refused, nothing half-applied.
        let kept = Snapshot(s)
        s.handle(.key(.char("e")))
        try focus(&s, field: "if.eth0.address")
        clear(&s)
        type(&s, "10.0.3.2/24")
        s.handle(.key(.enter))
        if case let .form(f) = s.overlay { #expect(f.error != nil) } else { Issue.record("an unreachable address was accepted") }
        #expect(Snapshot(s) == kept)
        // A gateway that is not an address is refused in the form.
        s.handle(.key(.escape))
        s.handle(.key(.char("e")))
        try focus(&s, field: "if.eth0.gateway")
        clear(&s)
        type(&s, "router")
        let before = Snapshot(s)
        s.handle(.key(.enter))
        if case let .form(f) = s.overlay { #expect(f.error?.contains("not an IP address") == true) } else { Issue.record("form closed") }
        #expect(Snapshot(s) == before)
    }

    @Test func addEditAndDeleteFlows() throws {
        var s = try seed()
        let flows = s.topology.flows.count
        try checkUndoRedo(&s) { s in
            s.handle(.key(.char("f")))
            s.handle(.key(.char("a")))
            // type: tcp → udp
            try focus(&s, field: "type")
            s.handle(.key(.right))
            s.handle(.key(.enter))
            #expect(s.flow?.flow == s.topology.flows.last?.name)
        }
        #expect(s.topology.flows.count == flows + 1)
        let added = try #require(s.topology.flows.last)
        #expect(added.kind == .udp && added.port == 53)
        // Edit: a payload and an expectation.
        try checkUndoRedo(&s) { s in
            s.handle(.key(.char("f")))
            let i = try #require(s.trace.flows.firstIndex { $0.flow == added.name })
            s.overlay = .flows(selected: i)
            s.handle(.key(.char("e")))
            try focus(&s, field: "payload")
            type(&s, "3000")
            try focus(&s, field: "expect")
            s.handle(.key(.right))
            s.handle(.key(.enter))
        }
        #expect(s.topology.flows.last?.payload == 3000)
        #expect(s.fileText.contains("expect: completes"))
        // Delete asks, then goes.
        try checkUndoRedo(&s) { s in
            s.handle(.key(.char("f")))
            let i = try #require(s.trace.flows.firstIndex { $0.flow == added.name })
            s.overlay = .flows(selected: i)
            s.handle(.key(.char("d")))
            s.handle(.key(.char("y")))
        }
        #expect(s.topology.flows.count == flows)
    }

    @Test func labAndNodeProfiles() throws {
        var s = try seed()
        try checkUndoRedo(&s) { s in
            s.handle(.key(.char("E")))
            try focus(&s, field: "kernel")
            s.handle(.key(.left))
            s.handle(.key(.enter))
        }
        s.perform(.selectNode("vm1"))
        try checkUndoRedo(&s) { s in
            s.handle(.key(.char("e")))
            try focus(&s, field: "kernel")
            s.handle(.key(.right))
            s.handle(.key(.enter))
        }
    }

    @Test func togglesUndoToo() throws {
        var s = try seed()
        try checkUndoRedo(&s) { s in try InteractionTests().toggle(&s, node: "router", setting: "flavour") }
        // r returns to the lab as last saved, and is itself undoable.
        #expect(!s.assignments.isEmpty)
        #expect(!s.changedNodes.isEmpty)
        s.handle(.key(.char("r")))
        #expect(s.assignments.isEmpty)
        #expect(s.changedNodes.isEmpty && s.changedSteps.isEmpty)
        s.handle(.key(.char("u")))
        #expect(!s.assignments.isEmpty)
    }

    @Test func undoHasNoDepthLimit() throws {
        var s = try seed()
        let start = Snapshot(s)
        for _ in 0..<120 { s.handle(.key(.char("a"))); s.handle(.key(.enter)) }
        #expect(s.topology.nodes.count == start.topology.nodes.count + 120)
        for _ in 0..<120 { s.handle(.key(.char("u"))) }
        #expect(Snapshot(s) == start)
        s.handle(.key(.char("u")))
        #expect(s.message == "nothing to undo")
    }

    /// After a toggle the cursor stays on the same hop (leg, element, function), not the same
    /// number.
    @Test func theCursorStaysOnTheSameHop() throws {
        var s = try seed()
        let target = try #require(s.steps.firstIndex { r in s.step(r).map { $0.element == "router" && $0.interface == "eth1" } ?? false })
        s.perform(.jumpToStep(target))
        let before = try #require(s.currentStep)
        try InteractionTests().toggle(&s, node: "router", setting: "flavour")
        let after = try #require(s.currentStep)
        #expect(after.element == before.element && after.interface == before.interface)
        #expect(s.current?.leg == 0)
    }

    @Test func unknownKeysSaySo() throws {
        var s = try seed()
        s.handle(.key(.char("Z")))
        #expect(s.message == "unknown key Z — ? for help")
        s.handle(.key(.unknown))
        #expect(s.message?.hasPrefix("unknown key") == true)
    }

    /// The key table knows every new key; the help lists them and explains `*`.
    @Test func helpListsTheEditingKeys() {
        let help = Bindings.helpLines().joined(separator: "\n")
        for k in ["Del", "Ctrl-R", "  u ", "  w ", "  W ", "  O ", "  a ", "  x ", "  e ", "  i "] {
            #expect(help.contains(k), "help lacks \(k)")
        }
        #expect(help.contains("differs from the lab as last saved"))
    }

    /// `I` adds an interface to the selected vm, netns or router through a form; `D` deletes one
    /// (with its links); both undo and redo, and go through the validator.
    @Test func addAndDeleteInterfaces() throws {
        var s = try seed()
        s.focus = .graph
        s.perform(.selectNode("vm1"))
        try checkUndoRedo(&s) { s in
            s.handle(.key(.char("I")))
            guard case let .form(f)? = s.overlay, case .addInterface(node: "vm1") = f.purpose else { Issue.record("no interface form: \(s.message ?? "")"); return }
            #expect(f["name"] == "eth1")
            try focus(&s, field: "address")
            type(&s, "10.0.9.2/24")
            s.handle(.key(.enter))
            #expect(s.overlay == nil, "\(String(describing: s.overlay))")
        }
        let vm1 = try #require(s.topology.node(named: "vm1"))
        #expect(vm1.interfaces.map(\.name) == ["eth0", "eth1"])
        #expect(vm1.interface(named: "eth1")?.addresses.map(\.description) == ["10.0.9.2/24"])
        #expect(s.fileText.contains("eth1: {address: 10.0.9.2/24}"))
        // A bad address stays in the form with the reason.
        s.handle(.key(.char("I")))
        try focus(&s, field: "address")
        type(&s, "10.0.9")
        s.handle(.key(.enter))
        guard case let .form(bad)? = s.overlay else { Issue.record("a bad address closed the form"); return }
        #expect(bad.error?.contains("not an address with a prefix") == true)
        s.handle(.key(.escape))

        // D: delete the new interface (nothing needs it), then refuse eth0 (the SSH flow does).
        checkUndoRedo(&s) { s in
            s.handle(.key(.char("D")))
            guard case let .form(f)? = s.overlay, case .deleteInterface(node: "vm1") = f.purpose else { Issue.record("no delete form"); return }
            #expect(f.fields.first?.choices == ["eth0", "eth1"])
            s.handle(.key(.right))
            s.handle(.key(.enter))
            #expect(s.overlay == nil)
        }
        #expect(s.topology.node(named: "vm1")?.interfaces.map(\.name) == ["eth0"])
        s.handle(.key(.char("u")))
        let before = Snapshot(s)
        s.handle(.key(.char("D")))
        s.handle(.key(.enter))
        guard case let .form(refused)? = s.overlay else { Issue.record("deleting what a flow needs was not refused"); return }
        let reason = try #require(refused.error)
        #expect(s.message?.contains("not possible here — \(reason)") == true, "\(s.message ?? "")")
        s.handle(.key(.escape))
        #expect(Snapshot(s) == before)

        // Kinds with fixed interfaces say why, and open nothing.
        for (node, why) in [("tap1", "one interface"), ("br1", "one interface")] {
            s.perform(.selectNode(node))
            for k in ["I", "D"] {
                s.handle(.key(.char(Character(k))))
                #expect(s.overlay == nil)
                #expect(s.message?.contains(why) == true, "\(node) \(k): \(s.message ?? "")")
            }
        }
        let help = Bindings.helpLines().joined(separator: "\n")
        #expect(help.contains("  I ") && help.contains("  D "))
    }
}

@Suite struct CommandLineWrapTests {
    /// The trace line wraps at spaces with shell continuations: joined back, it is the line.
    @Test func longTraceLinesWrapForTheShell() {
        let line = "  csumlab trace 'my labs/seed.yaml'" + (1...12).map { " --set vm\($0).eth0.tx-checksumming=off" }.joined()
        let rows = Commands.shellWrapped(line, width: 60)
        #expect(rows.count > 1)
        #expect(rows.allSatisfy { $0.count <= 60 })
        #expect(rows.dropLast().allSatisfy { $0.hasSuffix(" \\") })
        let joined = rows.map { $0.hasSuffix(" \\") ? String($0.dropLast(2)) : $0 }
            .map { $0.split(separator: " ").joined(separator: " ") }.joined(separator: " ")
        #expect(joined == line.split(separator: " ").joined(separator: " "))
        #expect(Commands.shellWrapped("short", width: 60) == ["short"])
    }
}
