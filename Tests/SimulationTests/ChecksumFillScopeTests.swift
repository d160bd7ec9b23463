import Foundation
import Testing
import Simulation
import TestSupport
import TopologyFile
import Wire

/// `checksum-fill: udp|tcp|all` and `checksum-fill-out: IF`: the CHECKSUM rule's `-p` and `-o`
/// matches, applied as xt_CHECKSUM's checksum_tg() in mangle POSTROUTING (a non-GSO
/// CHECKSUM_PARTIAL skb gets skb_checksum_help()). Field values come from the naive reference.
@Suite struct ChecksumFillScopeTests {
    static func lab(_ sets: [String] = []) throws -> Topology {
        try with(loadShipped("checksum-fill-scoped").topology, sets)
    }

    /// The L4 field as the receiver's reader gets it (the last frame handed over).
    static func handed(_ l: LegTrace) throws -> (field: UInt16, frame: [UInt8]) {
        let r = try #require(l.readerFrames.last)
        return (r.l4Field, l.steps[r.step].frame)
    }

    static func fills(_ l: LegTrace) -> [Step] { l.steps(.checksumFill) }

    /// skb_checksum_help() writes the field and sets CHECKSUM_NONE, nothing else: the linear
    /// part a TAP write gave the skb (`headLength`, what a later GRO merge's hdr_len comes
    /// from) and `csum_valid` stay as they were.
    /// (vethA without scatter-gather linearizes what it sends: `headLength` is then the frame.)
    @Test func theFillKeepsTheSkbsLinearPart() throws {
        let tr = try run(Self.lab(["vethA.vethA.sg=off"]))
        let fills = tr.flows.flatMap(\.legs).flatMap { Self.fills($0) }
        #expect(!fills.isEmpty)
        #expect(fills.contains { $0.before.skbState?.headLength != nil })
        for f in fills {
            #expect(f.after.skbState?.ipSummed == IPSummed.none)
            #expect(f.after.skbState?.headLength == f.before.skbState?.headLength)
            #expect(f.after.skbState?.csumValid == f.before.skbState?.csumValid)
        }
    }

    @Test func tcpOutEth1FillsOnlyTCPLeavingEth1() throws {
        let tr = try run(Self.lab())
        for l in tr.flows.filter({ $0.flow.hasPrefix("ssh") }).flatMap(\.legs) {
            let (field, frame) = try Self.handed(l)
            if l.to == "vm2" {
                #expect(Self.fills(l).map(\.interface) == ["eth1"], "\(l.name)")
                #expect(field == naiveL4Checksum(frame), "\(l.name)")
            } else {
                #expect(Self.fills(l).isEmpty, "\(l.name) leaves eth0")
                #expect(field == naivePseudoHeaderSum(frame), "\(l.name)")
            }
        }
        let dns = try #require(tr.flows.first { $0.flow == "dns" }?.legs.first)
        #expect(Self.fills(dns).isEmpty, "UDP does not match -p tcp")
        let (field, frame) = try Self.handed(dns)
        #expect(field == naivePseudoHeaderSum(frame))
    }

    /// `checksum-fill-family`: iptables fills IPv4 only, ip6tables IPv6 only, both both.
    @Test func familiesChooseIptablesOrIp6tables() throws {
        for (family, v4, v6) in [("ipv4", true, false), ("ipv6", false, true), ("both", true, true)] {
            let tr = try run(Self.lab(["router.checksum-fill-family=\(family)"]))
            for (flow, filled) in [("ssh", v4), ("ssh6", v6)] {
                let data = try #require(tr.flows.first { $0.flow == flow }?.legs.first { $0.to == "vm2" && $0.name.hasPrefix("data") })
                let (field, frame) = try Self.handed(data)
                #expect(Self.fills(data).isEmpty == !filled, "\(family) \(flow)")
                #expect(field == (filled ? naiveL4Checksum(frame) : naivePseudoHeaderSum(frame)), "\(family) \(flow)")
            }
        }
    }

    @Test func widerAndOtherScopes() throws {
        // -o any: the replies toward vm1 are filled too (out eth0).
        let any = try run(Self.lab(["router.checksum-fill-out=any"]))
        for l in try #require(any.flows.first(where: { $0.flow == "ssh" })).legs {
            let (field, frame) = try Self.handed(l)
            #expect(field == naiveL4Checksum(frame), "\(l.name)")
        }
        // -p udp -o eth1: the datagram is filled, TCP is not.
        let udp = try run(Self.lab(["router.checksum-fill=udp"]))
        let dns = try #require(udp.flows.first { $0.flow == "dns" }?.legs.first)
        #expect(Self.fills(dns).count == 1)
        let (f, frame) = try Self.handed(dns)
        #expect(f == naiveL4Checksum(frame))
        #expect(try #require(udp.flows.first(where: { $0.flow == "ssh" })).legs.allSatisfy { Self.fills($0).isEmpty })
        // -o eth0: only what leaves eth0 (the replies).
        let eth0 = try run(Self.lab(["router.checksum-fill-out=eth0"]))
        for l in try #require(eth0.flows.first(where: { $0.flow == "ssh" })).legs {
            #expect(Self.fills(l).isEmpty == (l.to == "vm2"), "\(l.name)")
        }
    }

    @Test func settingErrorsNameTheChoices() throws {
        var t = try Self.lab()
        #expect(throws: SettingError.self) { try t.apply(assignment: "router.checksum-fill=sctp") }
        do {
            try t.apply(assignment: "router.checksum-fill-out=eth9")
            Issue.record("eth9 accepted")
        } catch {
            #expect("\(error)".contains("eth0, eth1") && "\(error)".contains("eth9"), "\(error)")
        }
        // In a file: file:line:column and what was expected.
        var text = try FileText.read(repoRoot + "/topologies/checksum-fill-scoped.yaml")
        text = text.replacingOccurrences(of: "checksum-fill-out: eth1", with: "checksum-fill-out: eth9")
        do {
            _ = try TopologyFile.parse(text, file: "scoped.yaml")
            Issue.record("eth9 accepted in a file")
        } catch {
            let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("eth9") }! + 1
            #expect("\(error)".contains("scoped.yaml:\(line):"), "\(error)")
            #expect("\(error)".contains("checksum-fill-out"), "\(error)")
        }
    }

    @Test func writtenReadBackAndOfferedInTheMenu() throws {
        var t = try loadShipped("seed-routed-netns").topology
        try t.apply(assignment: "router.checksum-fill=tcp")
        try t.apply(assignment: "router.checksum-fill-out=eth0")
        let text = TopologyWriter.yaml(t)
        #expect(text.contains("checksum-fill: tcp") && text.contains("checksum-fill-out: eth0"), "\(text)")
        #expect(try TopologyFile.parse(text, file: "x.yaml").topology == t)
        let items = SettingItem.items(for: "router", topology: t, trace: try run(t))
        let out = try #require(items.first { $0.key == "checksum-fill-out" })
        #expect(out.value == "eth0" && out.next == "eth1")
        let fill = try #require(items.first { $0.key == "checksum-fill" })
        #expect(fill.value == "tcp" && fill.next == "all")
        #expect(HostCommands.lines(for: "router.checksum-fill-out=eth1", in: t)
                == ["ip netns exec router iptables -t mangle -A POSTROUTING -p tcp -o eth1 -j CHECKSUM --checksum-fill"])
        #expect(HostCommands.lines(for: "router.checksum-fill-family=both", in: t)
                == ["ip netns exec router iptables -t mangle -A POSTROUTING -p tcp -o eth0 -j CHECKSUM --checksum-fill",
                    "ip netns exec router ip6tables -t mangle -A POSTROUTING -p tcp -o eth0 -j CHECKSUM --checksum-fill"])
        try t.apply(assignment: "router.checksum-fill-family=ipv6")
        #expect(TopologyWriter.yaml(t).contains("checksum-fill-family: ipv6"))
        #expect(try TopologyFile.parse(TopologyWriter.yaml(t), file: "x.yaml").topology == t)
        #expect(SettingItem.items(for: "router", topology: t, trace: try run(t)).first { $0.key == "checksum-fill-family" }?.next == "both")
    }

    @Test func renamingOrDeletingTheInterfaceFollowsTheRule() throws {
        let t = try Self.lab()
        let renamed = try LabEdit.renameInterface(node: "router", from: "eth1", to: "up0").applied(to: t)
        #expect(renamed.node(named: "router")?.netfilter?.checksumFillOut == "up0")
        let del = LabEdit.deleteInterface(node: "router", name: "eth1")
        #expect(t.removals(of: del).checksumFill == ["router"])
        #expect(t.consequences(of: del).contains("checksum-fill on router"))
        let gone = try del.applied(to: t)
        // The rule goes with its interface (nil would widen it to every interface).
        #expect(gone.node(named: "router")?.netfilter?.checksumFill == .off)
        #expect(gone.node(named: "router")?.netfilter?.checksumFillOut == nil)
    }
}
