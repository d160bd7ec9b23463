import Testing
import Simulation
import TopologyFile
import Wire

/// `LabEdit`: each structural edit the explorer offers changes the model as it says, refuses
/// without changing anything, and keeps every name that refers to what it renames in step.
@Suite struct LabEditTests {
    func seed() throws -> Topology { try loadShipped("seed-routed-userspace").topology }

    func edited(_ t: Topology, _ edits: LabEdit...) throws -> Topology {
        var t = t
        for e in edits { try t.apply(e) }
        return t
    }

    func ip(_ s: String) -> IPAddress { IPAddress(s)! }
    func net(_ s: String) -> IPNetwork { IPNetwork(s)! }
    func ep(_ s: String) -> Endpoint { Endpoint(s)! }
    func link(_ a: String, _ b: String) -> Link { Link(ep(a), ep(b)) }

    /// Every name a topology refers to by: link endpoints, flow hosts and corrupt-after points,
    /// MASQUERADE interfaces.
    func references(_ t: Topology) -> [String] {
        t.links.flatMap { ["\($0.a)", "\($0.b)"] }
            + t.flows.flatMap { [$0.from, $0.to, $0.corruptAfter?.description ?? ""] }
            + t.nodes.compactMap { n -> String? in
                if case let .router(r) = n.kind { return r.netfilter.masqueradeOn.map { "\(n.name):\($0)" } }
                return nil
            }
    }

    // MARK: One test per edit kind

    @Test func addNodeAppendsAtTheEnd() throws {
        let t = try seed()
        let br = t.newNode(.bridge)
        #expect(br.name == "br3")   // br1 and br2 exist
        let u = try edited(t, .addNode(br))
        #expect(u.nodes.count == t.nodes.count + 1)
        #expect(u.nodes.last == br)
        #expect(Array(u.nodes.dropLast()) == t.nodes)
        #expect(LabEdit.addNode(br).summary(in: t) == "add bridge br3")
        // A single-device node given without its interface gets the one named like it.
        let tap = try edited(t, .addNode(Node(name: "tapX", kind: .tap(TapSettings())))).nodes.last
        #expect(tap?.interfaces.map(\.name) == ["tapX"])
    }

    @Test func deleteNodeRemovesExactlyItsLinksAndFlows() throws {
        var t = try seed()
        t.flows[0].corruptAfter = ep("tap1")   // ssh: corrupted after tap1
        let edit = LabEdit.deleteNode("tap1")
        let r = t.removals(of: edit)
        let touching = t.links.filter { $0.a.node == "tap1" || $0.b.node == "tap1" }
        #expect(touching.count == 2)
        #expect(r.links == touching)
        #expect(r.flows == ["ssh"])
        #expect(t.consequences(of: edit) == touching.map { "link \($0.a) – \($0.b)" } + ["flow ssh"])
        #expect(edit.summary(in: t) == "delete tap1 (2 links, 1 flow)")
        let u = try edited(t, edit)
        #expect(u.node(named: "tap1") == nil)
        #expect(u.nodes == t.nodes.filter { $0.name != "tap1" })
        #expect(u.links == t.links.filter { !touching.contains($0) })
        #expect(u.flows.map(\.name) == ["ping"])
        // Flows from or to the deleted host go too.
        let v = try edited(t, .deleteNode("vm2"))
        #expect(v.flows.isEmpty)
        #expect(LabEdit.deleteNode("vm2").summary(in: t) == "delete vm2 (1 link, 2 flows)")
        #expect(LabEdit.deleteNode("br1").summary(in: t) == "delete br1 (2 links)")
    }

    @Test func linkAndUnlinkInEitherOrder() throws {
        let t = try seed()
        // Unlink names the link the other way round from the file.
        let u = try edited(t, .unlink(link("br1", "tap1")))
        #expect(u.links == t.links.filter { $0 != link("tap1", "br1") })
        let back = try edited(u, .link(link("br1", "tap1")))
        #expect(back.links.count == t.links.count)
        #expect(Set(back.links.map { Set([$0.a, $0.b]) }) == Set(t.links.map { Set([$0.a, $0.b]) }))
        #expect(TopologyFile.validate(back, file: "t").isEmpty)
        // The link picker offers br1 for tap1 once its bridge side is free, and no guest NIC.
        #expect(u.linkCandidates(from: ep("tap1")) == [ep("br1"), ep("br2")])
        #expect(t.linkCandidates(from: ep("tap1")).isEmpty)
    }

    @Test func renameNodeAndBackGivesTheOriginal() throws {
        for lab in ["nat-masquerade", "veth-pre44-corruption", "seed-routed-userspace"] {
            let t = try loadShipped(lab).topology
            for n in t.nodes {
                let u = try edited(t, .renameNode(from: n.name, to: "renamed"))
                #expect(u.node(named: n.name) == nil)
                #expect(u.node(named: "renamed") != nil)
                let refs = references(t), newRefs = references(u)
                #expect(newRefs.count == refs.count)
                for (old, new) in zip(refs, newRefs) {
                    if old == n.name || old.hasPrefix(n.name + ":") {
                        #expect(new == "renamed" + old.dropFirst(n.name.count), "\(lab): \(old) → \(new)")
                    } else {
                        #expect(new == old)
                    }
                }
                #expect(try edited(u, .renameNode(from: "renamed", to: n.name)) == t, "\(lab) \(n.name)")
            }
        }
        // A tap's one interface carries the node's name.
        let u = try edited(try seed(), .renameNode(from: "tap1", to: "web"))
        #expect(u.node(named: "web")?.interfaces.map(\.name) == ["web"])
        #expect(LabEdit.renameNode(from: "vm1", to: "web").summary(in: try seed()) == "rename vm1 → web")
    }

    @Test func renameInterfaceFollowsLinksFlowsAndMasquerade() throws {
        var t = try loadShipped("nat-masquerade").topology
        t.flows[0].corruptAfter = ep("router:eth1")
        let edit = LabEdit.renameInterface(node: "router", from: "eth1", to: "uplink")
        let u = try edited(t, edit)
        guard case let .router(r) = u.node(named: "router")?.kind else { Issue.record("router"); return }
        #expect(r.netfilter.masqueradeOn == "uplink")
        #expect(u.links.contains(link("router:uplink", "vethB:vethB-r")))
        #expect(!references(u).contains("router:eth1"))
        #expect(u.flows[0].corruptAfter == ep("router:uplink"))
        #expect(u.node(named: "router")?.interfaces.map(\.name) == ["eth0", "uplink"])
        #expect(TopologyFile.validate(u, file: "t").isEmpty)
        #expect(try edited(u, .renameInterface(node: "router", from: "uplink", to: "eth1")) == t)
        // Veth ends rename too.
        let s = try seed()
        let v = try edited(s, .renameInterface(node: "vethA", from: "vethA-r", to: "vethA-router"))
        #expect(v.links.contains(link("vethA:vethA-router", "router:eth0")))
        #expect(try edited(v, .renameInterface(node: "vethA", from: "vethA-router", to: "vethA-r")) == s)
    }

    @Test func setAddressesAndGateways() throws {
        let t = try seed()
        let u = try edited(t, .setAddresses(node: "vm1", interface: "eth0", [net("10.0.1.5/24"), net("fd00::5/64")]),
                           .setGateway(node: "vm1", interface: "eth0", .v6, ip("fd00::1")),
                           .setGateway(node: "vm2", interface: "eth0", .v4, nil))
        let e = u.node(named: "vm1")?.interface(named: "eth0")
        #expect(e?.addresses == [net("10.0.1.5/24"), net("fd00::5/64")])
        #expect(e?.gateway == ip("10.0.1.1"))
        #expect(e?.gateway6 == ip("fd00::1"))
        #expect(u.node(named: "vm2")?.interface(named: "eth0")?.gateway == nil)
        #expect(LabEdit.setGateway(node: "vm2", interface: "eth0", .v4, nil).summary(in: t) == "vm2:eth0 no gateway")
    }

    @Test func addReplaceAndDeleteFlows() throws {
        let t = try seed()
        var dns = Flow(name: "dns", kind: .udp, from: "vm2", to: "vm1")
        var u = try edited(t, .addFlow(dns))
        #expect(u.flows.map(\.name) == ["ssh", "ping", "dns"])
        #expect(u.flows.last == dns)
        dns.port = 5353
        dns.name = "mdns"
        let replace = LabEdit.replaceFlow(name: "dns", dns)
        #expect(replace.flowRename?.from == "dns")
        #expect(replace.flowRename?.to == "mdns")
        #expect(LabEdit.replaceFlow(name: "ssh", t.flows[0]).flowRename == nil)
        u = try edited(u, replace)
        #expect(u.flows.map(\.name) == ["ssh", "ping", "mdns"])
        #expect(u.flows.last?.port == 5353)
        u = try edited(u, .deleteFlow("ssh"))
        #expect(u.flows.map(\.name) == ["ping", "mdns"])
        #expect(u.nodes == t.nodes && u.links == t.links)
    }

    @Test func kernels() throws {
        let t = try seed()
        let u = try edited(t, .setLabKernel(.linux3), .setNodeKernel(node: "vm1", nil), .setNodeKernel(node: "router", .linux44))
        #expect(u.kernel == .linux3)
        #expect(u.node(named: "vm1")?.kernel == nil)
        #expect(u.profile(of: u.node(named: "vm1")!) == .linux3)
        #expect(u.node(named: "router")?.kernel == .linux44)
        #expect(try edited(u, .setLabKernel(nil)).kernel == nil)
    }

    @Test func addAndDeleteInterfaces() throws {
        let t = try loadShipped("nat-masquerade").topology
        let u = try edited(t, .addInterface(node: "router", Interface(name: "eth2", addresses: [net("10.0.3.1/24")])))
        #expect(u.node(named: "router")?.interfaces.map(\.name) == ["eth0", "eth1", "eth2"])
        #expect(TopologyFile.validate(u, file: "t").isEmpty)
        let edit = LabEdit.deleteInterface(node: "router", name: "eth1")
        #expect(t.removals(of: edit) == LabEdit.Removals(links: [link("router:eth1", "vethB:vethB-r")], masquerade: ["router"]))
        #expect(edit.summary(in: t) == "delete interface router:eth1 (1 link, masquerade rule)")
        let v = try edited(t, edit)
        #expect(v.node(named: "router")?.interfaces.map(\.name) == ["eth0"])
        #expect(v.links == t.links.filter { $0 != link("router:eth1", "vethB:vethB-r") })
        guard case let .router(r) = v.node(named: "router")?.kind else { Issue.record("router"); return }
        #expect(r.netfilter.masqueradeOn == nil)
        #expect(!references(v).contains { $0.hasPrefix("router:eth1") })
    }

    @Test func descriptionAndName() throws {
        let u = try edited(try seed(), .setDescription("line one\nline two"), .setName("my lab"))
        #expect(u.description == "line one\nline two")
        #expect(u.name == "my lab")
    }

    // MARK: Refusals

    @Test func refusedEditsLeaveTheTopologyUnchanged() throws {
        let t = try seed()
        var masquerading = NodeTemplate.router.node(named: "gw")
        if case var .router(r) = masquerading.kind {
            r.netfilter.masqueradeOn = "eth7"
            masquerading.kind = .router(r)
        }
        let bad: [(LabEdit, String)] = [
            (.addNode(NodeTemplate.vm.node(named: "vm1")), "a node named 'vm1' already exists"),
            (.addNode(NodeTemplate.vm.node(named: "a.b")), "invalid node name 'a.b'"),
            (.addNode(Node(name: "v", kind: .veth, interfaces: [Interface(name: "v")])), "exactly two ends"),
            (.addNode(masquerading), "not an interface of 'gw'"),
            (.deleteNode("nope"), "no node named 'nope'"),
            (.renameNode(from: "vm1", to: "vm2"), "a node named 'vm2' already exists"),
            (.renameNode(from: "vm1", to: "web server"), "invalid node name"),
            (.renameNode(from: "nope", to: "x"), "no node named 'nope'"),
            (.renameInterface(node: "router", from: "eth0", to: "eth1"), "already has an interface named 'eth1'"),
            (.renameInterface(node: "router", from: "eth9", to: "x"), "has no interface 'eth9'"),
            (.renameInterface(node: "tap1", from: "tap1", to: "x"), "rename the node"),
            (.renameInterface(node: "vm1", from: "eth0", to: "e:0"), "invalid interface name"),
            (.link(link("vm1:eth0", "br1")), "a guest NIC links only to a TAP"),
            (.link(link("tap1", "br1")), "linked already"),
            (.link(link("br2", "tap1")), "linked already on its kernel side"),
            (.link(link("vm1", "tap1")), "name the interface"),
            (.unlink(link("vm1:eth0", "br1")), "no link between"),
            (.setAddresses(node: "tap1", interface: "tap1", [net("10.9.0.1/24")]), "a tap has no addresses"),
            (.setGateway(node: "vm1", interface: "eth0", .v6, ip("10.0.1.1")), "expects an IPv6 address"),
            (.addFlow(Flow(name: "ssh", kind: .tcp, from: "vm1", to: "vm2")), "a flow named 'ssh' already exists"),
            (.addFlow(Flow(name: "", kind: .tcp, from: "vm1", to: "vm2")), "invalid flow name"),
            (.replaceFlow(name: "nope", t.flows[0]), "no flow named 'nope'"),
            (.replaceFlow(name: "ssh", t.flows[1]), "a flow named 'ping' already exists"),
            (.deleteFlow("nope"), "no flow named 'nope'"),
            (.setNodeKernel(node: "br1", .linux3), "only vm and router nodes"),
            (.addInterface(node: "vethA", Interface(name: "x")), "exactly two ends"),
            (.addInterface(node: "vm1", Interface(name: "eth0")), "already has an interface named 'eth0'"),
            (.deleteInterface(node: "vm1", name: "eth9"), "has no interface 'eth9'"),
            (.deleteInterface(node: "br1", name: "br1"), "one interface"),
            (.setDescription("clear\u{1B}[2J"), "control character"),
            (.setName("two\nlines"), "control character"),
        ]
        for (edit, message) in bad {
            var u = t
            #expect(throws: EditError.self, "\(edit)") { try u.apply(edit) }
            #expect(u == t, "\(edit) changed the topology")
            do {
                try u.apply(edit)
            } catch {
                #expect(error.message.contains(message), "\(edit): \(error.message)")
            }
        }
    }

    // MARK: Toggles follow renames

    @Test func carryRewritesAssignmentsAcrossRenamesAndDropsDeletedOnes() {
        let renameVM = LabEdit.renameNode(from: "vm1", to: "web")
        #expect(renameVM.carry(assignment: "vm1.eth0.tx=off") == "web.eth0.tx=off")
        #expect(renameVM.carry(assignment: "vm1.kernel=linux-3.x") == "web.kernel=linux-3.x")
        #expect(renameVM.carry(assignment: "vm10.eth0.tx=off") == "vm10.eth0.tx=off")
        #expect(renameVM.carry(assignment: "kernel=linux-3.x") == "kernel=linux-3.x")
        let renameIf = LabEdit.renameInterface(node: "router", from: "eth1", to: "uplink")
        #expect(renameIf.carry(assignment: "router.eth1.address=10.0.2.1/24") == "router.uplink.address=10.0.2.1/24")
        #expect(renameIf.carry(assignment: "router.masquerade=eth1") == "router.masquerade=uplink")
        #expect(renameIf.carry(assignment: "router.masquerade=eth0") == "router.masquerade=eth0")
        #expect(renameIf.carry(assignment: "vm1.eth1.tx=off") == "vm1.eth1.tx=off")
        let deleteVM = LabEdit.deleteNode("vm1")
        #expect(deleteVM.carry(assignment: "vm1.eth0.tx=off") == nil)
        #expect(deleteVM.carry(assignment: "vm1.guest-csum=off") == nil)
        #expect(deleteVM.carry(assignment: "vm2.guest-csum=off") == "vm2.guest-csum=off")
        let deleteIf = LabEdit.deleteInterface(node: "router", name: "eth1")
        #expect(deleteIf.carry(assignment: "router.eth1.address=10.0.2.1/24") == nil)
        #expect(deleteIf.carry(assignment: "router.masquerade=eth1") == nil)
        #expect(deleteIf.carry(assignment: "router.eth0.address=10.0.2.1/24") == "router.eth0.address=10.0.2.1/24")
        #expect(LabEdit.addFlow(Flow(name: "f", kind: .tcp, from: "a", to: "b")).carry(assignment: "vm1.eth0.tx=off") == "vm1.eth0.tx=off")
    }

    /// Applying a toggle then renaming equals renaming then applying the carried toggle.
    @Test func carriedTogglesCommuteWithRenames() throws {
        let t = try loadShipped("nat-masquerade").topology
        let toggles = ["vm1.eth0.tx=off", "vethB.vethB-r.rx=off", "router.masquerade=eth0", "tap1.tun-csum=off", "router.eth1.address=10.0.2.9/24"]
        let renames: [LabEdit] = [
            .renameNode(from: "vm1", to: "web"), .renameNode(from: "router", to: "gw"), .renameNode(from: "tap1", to: "t1"),
            .renameInterface(node: "router", from: "eth0", to: "lan"), .renameInterface(node: "vethB", from: "vethB-r", to: "vb"),
            .renameInterface(node: "router", from: "eth1", to: "wan"),
        ]
        for r in renames {
            for a in toggles {
                let thenRename = try edited(with(t, [a]), r)
                let carried = try #require(r.carry(assignment: a))
                #expect(try with(edited(t, r), [carried]) == thenRename, "\(r) \(a)")
            }
        }
    }

    // MARK: Every shipped lab

    /// Per flow: completes, corrupted data, the failed leg (as `edit` carries leg names).
    func verdicts(_ t: Topology, after edit: LabEdit? = nil) throws -> [String: [String?]] {
        var v: [String: [String?]] = [:]
        for f in try Simulator(t).run().flows {
            v[f.flow] = ["\(f.verdict.completes)", "\(f.verdict.corruptedData)", f.verdict.failedLeg.map { edit?.carry(leg: $0) ?? $0 }]
        }
        return v
    }

    @Test(arguments: shippedTopologyPaths())
    func renamingAnyNodeOrInterfaceKeepsTheLabValidAndItsVerdicts(path: String) throws {
        let t = try TopologyFile.load(path: path).topology
        let before = try verdicts(t)
        #expect(!before.isEmpty)
        for n in t.nodes {
            let fresh = t.freeName("renamed")
            let rename = LabEdit.renameNode(from: n.name, to: fresh)
            let u = try edited(t, rename)
            #expect(TopologyFile.validate(u, file: path).isEmpty, "\(path): rename \(n.name)")
            #expect(try verdicts(u) == verdicts(t, after: rename), "\(path): rename \(n.name)")
            guard !LinkRole.isSingleDevice(n.kind) else { continue }
            for i in n.interfaces {
                let v = try edited(t, .renameInterface(node: n.name, from: i.name, to: t.freeName("if")))
                #expect(TopologyFile.validate(v, file: path).isEmpty, "\(path): rename \(n.name):\(i.name)")
                #expect(try verdicts(v) == before, "\(path): rename \(n.name):\(i.name)")
            }
        }
    }

    @Test(arguments: shippedTopologyPaths())
    func deletingAnyNodeLeavesNothingThatNamesIt(path: String) throws {
        let t = try TopologyFile.load(path: path).topology
        for n in t.nodes {
            let u = try edited(t, .deleteNode(n.name))
            #expect(!references(u).contains { $0 == n.name || $0.hasPrefix(n.name + ":") }, "\(path): delete \(n.name)")
            for d in TopologyFile.validate(u, file: path) {
                #expect(!d.message.contains("'\(n.name)'") && !d.message.contains("'\(n.name):"), "\(path): delete \(n.name): \(d.message)")
            }
        }
    }

    /// The link picker and the validator are one rule: linking any endpoint to a candidate makes
    /// no link diagnostic; linking it to any other endpoint is refused by the edit or the validator.
    @Test(arguments: shippedTopologyPaths())
    func linkCandidatesAreExactlyTheLinksTheValidatorAccepts(path: String) throws {
        let t = try TopologyFile.load(path: path).topology
        #expect(Set(t.endpoints.map(\.description)).count == t.endpoints.count)
        for a in t.endpoints {
            let candidates = Set(t.linkCandidates(from: a))
            for b in t.endpoints {
                var u = t
                let linked = (try? u.apply(.link(Link(a, b)))) != nil
                #expect(linked == candidates.contains(b), "\(path): \(a) – \(b)")
                guard linked else { continue }
                let linkProblems = TopologyFile.validate(u, file: path).filter { $0.message.contains("link") }
                #expect(linkProblems.isEmpty, "\(path): \(a) – \(b): \(linkProblems.map(\.message))")
            }
        }
    }

    /// Unlinking every link and offering it back: the picker offers each link the lab had.
    @Test(arguments: shippedTopologyPaths())
    func everyShippedLinkIsACandidateOnceRemoved(path: String) throws {
        let t = try TopologyFile.load(path: path).topology
        for l in t.links {
            let u = try edited(t, .unlink(Link(l.b, l.a)))
            #expect(u.links.count == t.links.count - 1)
            #expect(u.linkCandidates(from: l.a).contains(l.b), "\(path): \(l.a) – \(l.b)")
            #expect(u.linkCandidates(from: l.b).contains(l.a), "\(path): \(l.b) – \(l.a)")
        }
    }

    @Test func legNamesFollowAHostRename() {
        let r = LabEdit.renameNode(from: "vm1", to: "web")
        #expect(r.carry(leg: "data vm1→vm2") == "data web→vm2")
        #expect(r.carry(leg: "data vm2→vm1") == "data vm2→web")
        #expect(r.carry(leg: "data vm10→vm2") == "data vm10→vm2")
        #expect(r.carry(leg: "SYN") == "SYN")
        #expect(LabEdit.deleteFlow("ssh").carry(leg: "data vm1→vm2") == "data vm1→vm2")
    }

    // MARK: Templates

    @Test func templatesCoverEveryKindFlavourAndPlace() {
        let nodes = NodeTemplate.allCases.map { $0.node(named: "n") }
        #expect(Set(nodes.map(\.kind.name)) == Set(NodeKind.allNames))
        var routers: Set<String> = []
        for n in nodes {
            if case let .router(r) = n.kind { routers.insert(r.inVM ? "\(r.flavour)-vm" : "\(r.flavour)-netns") }
        }
        #expect(routers == ["netns-netns", "vm-vm", "userspace-netns", "userspace-vm"])
        for kind in NodeKind.allNames { #expect(NodeTemplate(kind: kind) != nil, "\(kind)") }
        for f in RouterSettings.Flavour.allCases {
            for p in RouterSettings.Placement.allCases {
                guard let tpl = NodeTemplate(kind: "router", flavour: f.rawValue, place: p.rawValue),
                      case let .router(r) = tpl.node(named: "r").kind else { Issue.record("\(f) \(p)"); continue }
                #expect(r.flavour == f)
                if f == .userspace { #expect(r.placement == p) }
            }
        }
        #expect(NodeTemplate(kind: "switch") == nil)
    }

    @Test(arguments: NodeTemplate.allCases)
    func eachTemplateAloneIsAValidLabThatRoundTrips(template: NodeTemplate) throws {
        let lab = try edited(Topology(name: "x"), .addNode(Topology(name: "x").newNode(template)))
        #expect(TopologyFile.validate(lab, file: "t").isEmpty)
        let text = TopologyWriter.yaml(lab)
        #expect(try TopologyFile.parse(text, file: "t.yaml").topology == lab, "\(text)")
    }

    @Test func templatesAddedToTheSeedNeverCollide() throws {
        var t = try seed()
        for _ in 0..<3 {
            for tpl in NodeTemplate.allCases {
                let n = t.newNode(tpl)
                let taken = t.takenNames
                #expect(!taken.contains(n.name))
                if case .veth = n.kind { #expect(n.interfaces.allSatisfy { !taken.contains($0.name) }) }
                try t.apply(.addNode(n))
            }
        }
        #expect(Set(t.nodes.map(\.name)).count == t.nodes.count)
        let vethEnds = t.nodes.filter { $0.kind == .veth }.flatMap { $0.interfaces.map(\.name) }
        #expect(Set(vethEnds).count == vethEnds.count)
        let remotes = t.nodes.compactMap { n -> IPAddress? in
            if case let .hostNIC(h) = n.kind { return h.remoteAddress }
            return nil
        }
        #expect(Set(remotes).count == 3)
        #expect(TopologyFile.validate(t, file: "t").isEmpty)
        #expect(t.nodes.filter { $0.name.hasPrefix("vm") }.map(\.name) == ["vm1", "vm2", "vm3", "vm4", "vm5"])
    }

    @Test func freeSubnetsAndAddresses() throws {
        let t = try seed()   // 10.0.1.0/24 and 10.0.2.0/24, .1 and .2 in each
        let s = try #require(t.freeSubnet())
        #expect(s == net("10.0.3.0/24"))
        #expect(!t.nodes.flatMap { $0.interfaces.flatMap(\.addresses) }.contains { s.contains($0.address) })
        #expect(t.freeAddress(in: net("10.0.1.0/24")) == ip("10.0.1.3"))
        #expect(t.freeAddress(in: s) == ip("10.0.3.1"))
        #expect(t.freeAddress(in: net("10.0.1.0/30")) == nil)   // .1 and .2 taken, .3 is the broadcast address
        #expect(t.freeAddress(in: net("fd00::/64")) == ip("fd00::1"))
        #expect(Topology(name: "x").freeAddress(in: net("10.0.0.0/31")) == ip("10.0.0.1"))
        #expect(Topology(name: "x").freeAddress(in: net("10.0.0.7/32")) == nil)
        #expect(Topology(name: "x").freeAddress(in: net("10.0.4.77/16")) == ip("10.0.0.1"))
    }
}
