import ExplorerUI
import Simulation
import Testing
import TopologyFile

@Suite struct DefaultLabTests {
    @Test func embeddedLabEqualsShippedFile() throws {
        let shipped = try #require(readFile(packageRoot + "/topologies/" + DefaultLab.fileName))
        #expect(Array(DefaultLab.text.utf8) == Array(shipped.utf8))
    }

    @Test func defaultLabOpensOnFailingSSH() throws {
        let s = try defaultState()
        #expect(s.flow?.flow == "ssh")
        #expect(s.flow?.verdict.completes == false)
        #expect(s.flow?.verdict.failedLeg == "SYN")
        #expect(s.selectedNode == "vm1")
    }
}

@Suite struct InteractionTests {
    /// Select a node and set one setting through the menu, as a user would.
    func toggle(_ s: inout ExplorerState, node: String, setting label: String) throws {
        s.perform(.selectNode(node))
        s.perform(.openOptions)
        let i = try #require(s.menuItems.firstIndex { $0.label == label }, "no \(label) in \(node)'s menu")
        for _ in 0..<i { s.perform(.menuDown) }
        s.perform(.menuActivate)
        s.perform(.closeOverlay)
    }

    @Test func theSeedStory() throws {
        var s = try defaultState()
        press(&s, .char("l"), .right)
        #expect(s.position == 2)
        try toggle(&s, node: "vm1", setting: "eth0 tx-checksumming")
        #expect(s.flow?.verdict.completes == false)
        #expect(s.flow?.verdict.failedLeg == "SYN-ACK")
        #expect(s.message?.contains("still fails, now at SYN-ACK") == true)
        #expect(s.message?.contains("vm1:eth0 tso off") == true)
        #expect(!s.changedSteps.isEmpty)
        try toggle(&s, node: "vm2", setting: "eth0 tx-checksumming")
        #expect(s.flow?.verdict.completes == true)
        #expect(s.message?.contains("connection now completes") == true)
        #expect(s.assignments == ["vm1.eth0.tx-checksumming=off", "vm2.eth0.tx-checksumming=off"])
        s.perform(.resetToggles)
        #expect(s.assignments.isEmpty)
        #expect(s.flow?.verdict.completes == false)
        try toggle(&s, node: "router", setting: "flavour")
        #expect(s.assignments == ["router.flavour=netns"])
        #expect(s.flow?.verdict.completes == true)
    }

    /// userspace → netns → vm: a router VM's NICs cannot sit on veth ends, so the third
    /// flavour is refused with the validator's reason and nothing changes.
    @Test func impossibleToggleIsRefusedWithTheReason() throws {
        var s = try defaultState()
        try toggle(&s, node: "router", setting: "flavour")
        #expect(s.assignments == ["router.flavour=netns"])
        try toggle(&s, node: "router", setting: "flavour")
        #expect(s.assignments == ["router.flavour=netns"])
        #expect(s.message?.contains("not possible here") == true)
        #expect(s.message?.contains("guest NIC") == true)
    }

    @Test func togglingBackRemovesTheAssignment() throws {
        var s = try defaultState()
        try toggle(&s, node: "vm1", setting: "eth0 tx-checksumming")
        try toggle(&s, node: "vm1", setting: "eth0 tx-checksumming")
        #expect(s.assignments.isEmpty)
    }

    @Test func dependentFeaturesAndGreyedOutSettings() throws {
        var s = try defaultState()
        try toggle(&s, node: "vm1", setting: "eth0 tx-checksumming")
        s.perform(.openOptions)
        let tso = try #require(s.menuItems.first { $0.label == "eth0 tcp-segmentation-offload" })
        #expect(tso.value == "off")
        #expect(tso.note?.contains("Dropping TSO") == true)
        s.perform(.closeOverlay)
        s.perform(.selectNode("router"))
        s.perform(.openOptions)
        let items = s.menuItems
        #expect(items.first { $0.key == "guest-csum" }?.disabled != nil)
        #expect(items.first { $0.key == "vnet-hdr" }?.disabled == nil)
        #expect(items.first { $0.key == "checksum-fill" }?.disabled != nil)
    }

    @Test func nodesCycleAlongThePath() throws {
        var s = try defaultState()
        var seen: [String] = [s.selectedNode]
        for _ in 0..<8 { s.perform(.nextNode); seen.append(s.selectedNode) }
        #expect(seen == ["vm1", "tap1", "br1", "vethA", "router", "vethB", "br2", "tap2", "vm2"])
        s.perform(.nextNode)
        #expect(s.selectedNode == "vm1")
        s.perform(.previousNode)
        #expect(s.selectedNode == "vm2")
    }

    @Test func stepsCrossPacketsAndStopAtTheEnds() throws {
        var s = try defaultState()
        s.perform(.previousStep)
        #expect(s.position == 0)
        s.perform(.lastStep)
        #expect(s.position == s.steps.count - 1)
        s.perform(.nextStep)
        #expect(s.position == s.steps.count - 1)
        s.perform(.firstStep)
        for _ in 0..<13 { s.perform(.nextStep) }
        #expect(s.current == StepRef(leg: 1, step: 0))
    }

    @Test func playAdvancesOnTicks() throws {
        var s = try defaultState()
        s.handle(.tick)
        #expect(s.position == 0)
        press(&s, .char(" "))
        s.handle(.tick)
        s.handle(.tick)
        #expect(s.position == 2)
        press(&s, .char("+"))
        #expect(s.playInterval < 500)
        press(&s, .char(" "))
        s.handle(.tick)
        #expect(s.position == 2)
    }

    @Test func searchJumpsToMatchingStep() throws {
        var s = try defaultState()
        press(&s, .char("/"), .char("p"), .char("a"), .char("c"), .char("k"), .char("e"), .char("t"), .char("_"), .char("r"), .enter)
        #expect(s.currentStep?.event.kind == .forwarderReadSocket)
        let first = s.position
        press(&s, .char("n"))
        #expect(s.position > first)
    }

    @Test func flowAndKernelChoosers() throws {
        var s = try defaultState()
        press(&s, .char("f"), .down, .enter)
        #expect(s.flow?.flow == "ping")
        #expect(s.flow?.verdict.completes == true)
        press(&s, .char("K"), .up, .enter)
        #expect(s.topology.hostKernel == .linux44)
        #expect(s.assignments == ["kernel=linux-4.4"])
        #expect(s.flow?.flow == "ping")
    }

    @Test func tabCyclesPanesAndKeysFollowThePane() throws {
        var s = try defaultState()
        #expect(s.focus == .graph)
        press(&s, .char("j"))
        #expect(s.selectedNode == "tap1")
        #expect(s.position == 0)
        press(&s, .tab)
        #expect(s.focus == .steps)
        press(&s, .char("j"))
        #expect(s.position == 1)
        #expect(s.selectedNode == "tap1")
        press(&s, .backTab, .backTab)
        #expect(s.focus == .hex)
    }

    @Test func clicksSelectNodesAndSteps() throws {
        var s = try defaultState()
        let frame = Screen.render(s, width: 120, height: 40)
        let router = try #require(frame.hits.first { $0.action == .selectNode("router") })
        s.handle(.click(x: router.rect.x + 1, y: router.rect.y + 1), hits: frame.hits)
        #expect(s.selectedNode == "router")
        let step5 = try #require(frame.hits.first { $0.action == .jumpToStep(4) })
        s.handle(.click(x: step5.rect.x + 2, y: step5.rect.y), hits: frame.hits)
        #expect(s.position == 4)
        #expect(s.focus == .steps)
    }

    @Test func commandsShowRealCommandsAndTheTraceLine() throws {
        let loaded = try TopologyFile.parse(DefaultLab.text, file: DefaultLab.fileName)
        let doc = try LabDocument(structure: loaded.topology, expectations: loaded.expectations, path: "my labs/seed.yaml", label: "my labs/seed.yaml")
        var s = ExplorerState(document: doc)
        try toggle(&s, node: "vm1", setting: "eth0 tx-checksumming")
        try toggle(&s, node: "router", setting: "flavour")
        let text = Commands.lines(s).joined(separator: "\n")
        #expect(text.contains("inside vm1: ethtool -K eth0 tx off"))
        #expect(text.contains("ip netns exec router sysctl -w net.ipv4.ip_forward=1"))
        // The path as given, quoted for the shell (it has a space), and every toggle.
        #expect(Commands.reproduce(s) == ["csumlab trace 'my labs/seed.yaml' --set vm1.eth0.tx-checksumming=off --set router.flavour=netns"])
        // `y` prints it on exit.
        press(&s, .char("y"))
        #expect(s.printOnExit == Commands.reproduce(s))
    }

    /// The built-in lab has no file: the line names its shipped copy when there is one, and
    /// otherwise says to save first instead of naming a relative path that may not exist.
    @Test func theBuiltInLabsTraceLineNeedsAFile() throws {
        var s = try defaultState()
        try toggle(&s, node: "vm1", setting: "eth0 tx-checksumming")
        #expect(Commands.reproduce(s).first?.contains("save it first") == true)
        s.document.referencePath = "/opt/csumlab/topologies/seed-routed-userspace.yaml"
        #expect(Commands.reproduce(s) == ["csumlab trace /opt/csumlab/topologies/seed-routed-userspace.yaml --set vm1.eth0.tx-checksumming=off"])
    }

    @Test func quitKey() throws {
        var s = try defaultState()
        press(&s, .char("q"))
        #expect(s.quitRequested)
    }
}

@Suite struct BindingTableTests {
    @Test func noKeyMeansTwoThingsInOnePane() {
        for pane in [BindingContext.graph, .steps, .detail, .hex] {
            let keys = Bindings.table.filter { $0.context == pane || $0.context == .global }.flatMap(\.keys)
            #expect(Set(keys).count == keys.count, "duplicate key in \(pane)")
        }
        for overlay in [BindingContext.menu, .chooser, .help, .commands, .search] {
            let keys = Bindings.table.filter { $0.context == overlay }.flatMap(\.keys)
            #expect(Set(keys).count == keys.count, "duplicate key in \(overlay)")
        }
    }

    @Test func helpListsEveryBinding() {
        let help = Bindings.helpLines().joined(separator: "\n")
        for b in Bindings.table { #expect(help.contains(b.help)) }
    }

    @Test func hintBarFollowsThePane() throws {
        var s = try defaultState()
        #expect(Bindings.hints(for: s).first?.action == .nextNode)
        s.focus = .detail
        #expect(Bindings.hints(for: s).first?.action == .scrollDown)
        s.perform(.openOptions)
        #expect(Bindings.hints(for: s).allSatisfy { $0.context == .menu })
    }
}

@Suite struct MenuTests {
    @Test func theSelectionStaysOnTheSettingWhenTheMenuChangesShape() throws {
        let loaded = try TopologyFile.load(path: packageRoot + "/topologies/seed-routed-vm-router.yaml")
        var s = try ExplorerState(topology: loaded.topology, fileLabel: "seed-routed-vm-router.yaml")
        s.perform(.selectNode("router"))
        s.perform(.openOptions)
        #expect(s.menuItems.contains { $0.label == "eth0 tx-checksumming" })
        let flavour = try #require(s.menuItems.firstIndex { $0.key == "flavour" })
        s.overlay = .menu(node: "router", selected: flavour)
        s.perform(.menuActivate)  // vm → userspace (a forwarder on the TAP fds): the NIC features go
        #expect(s.topology.node(named: "router").map { if case let .router(r) = $0.kind { return r.flavour == .userspace }; return false } == true)
        guard case let .menu(_, sel) = s.overlay else { Issue.record("menu closed"); return }
        #expect(s.menuItems[sel].key == "flavour")
        #expect(!s.menuItems.contains { $0.label == "eth0 tx-checksumming" })
    }
}

@Suite struct CommandsTests {
    @Test func vethEndsAreNamedWhereTheyLive() throws {
        var s = try defaultState()
        s.perform(.selectNode("vethA"))
        s.perform(.openOptions)
        let items = s.menuItems
        let hostEnd = try #require(items.firstIndex { $0.label == "vethA tx-checksumming" })
        let routerEnd = try #require(items.firstIndex { $0.label == "vethA-r tx-checksumming" })
        for _ in 0..<hostEnd { s.perform(.menuDown) }
        s.perform(.menuActivate)
        for _ in hostEnd..<routerEnd { s.perform(.menuDown) }
        s.perform(.menuActivate)
        s.perform(.closeOverlay)
        let text = Commands.lines(s).joined(separator: "\n")
        #expect(text.contains("  ethtool -K vethA tx off"))
        #expect(text.contains("ip netns exec router ethtool -K eth0 tx off"))
    }
}
