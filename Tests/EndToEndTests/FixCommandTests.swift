@testable import csumlab
import ProcessSpawn
import Testing
import TopologyFile
import Simulation

#if canImport(Glibc)
import Glibc
#endif

/// `csumlab fix` as a user runs it: exit statuses, the fixes the seed question needs, `--write`.
@Suite struct FixCommandTests {
    static func lab(_ name: String) -> String { packageRoot + "/topologies/" + name + ".yaml" }

    @Test func rateParsing() {
        #expect(FixCommand.bitsPerSecond("1Gbit") == 1e9)
        #expect(FixCommand.bitsPerSecond("100Mbit/s") == 1e8)
        #expect(FixCommand.bitsPerSecond("2.5g") == 2.5e9)
        #expect(FixCommand.bitsPerSecond("500k") == 5e5)
        #expect(FixCommand.bitsPerSecond("fast") == nil)
        #expect(FixCommand.bitsPerSecond("-1G") == nil)
    }

    @Test func seedUserspaceRouter() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let r = Spawn.run([bin, "fix", Self.lab("seed-routed-userspace"), "--all"], capture: true)
        #expect(r.status == 1, "fixes found: exit 1")
        #expect(r.output.contains("(1 change): router.vnet-hdr=on"))
        #expect(r.output.contains("PACKET_VNET_HDR"))
        #expect(r.output.contains("(2 changes): vethA.vethA.tx=off, vethB.vethB.tx=off"))
        #expect(r.output.contains("ethtool -K vethA tx off"))
        #expect(r.output.contains("vethA.vethA.tx=off alone is not enough: ssh: connection fails: SYN-ACK"))
        #expect(r.output.contains("csumlab verify \(Self.lab("seed-routed-userspace")) --set router.vnet-hdr=on"))
        // tx off on a bridge is the popular change that does nothing here.
        let useless = try #require(r.output.components(separatedBy: "Changes people try that do not help here:").last)
        #expect(useless.contains("br1.tx=off: ssh: connection fails: SYN"))
    }

    @Test func exitStatuses() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        #expect(Spawn.run([bin, "fix", Self.lab("seed-routed-netns")], capture: true).status == 0)
        // The userspace router needs a change at the router or one on each side: none in 1.
        #expect(Spawn.run([bin, "fix", Self.lab("seed-routed-userspace"), "--max-changes", "1", "--set", "router.flavour=userspace",
                           "--set", "vm2.eth0.tx=off", "--flow", "ssh"], capture: true).status == 1)
        #expect(Spawn.run([bin, "fix", "/nonexistent.yaml"], capture: true).status == 65)
        #expect(Spawn.run([bin, "fix", Self.lab("seed-bridged"), "--max-changes", "9"], capture: true).status == 64)
        #expect(Spawn.run([bin, "fix", Self.lab("seed-bridged"), "--flow", "nope"], capture: true).status == 65)
    }

    @Test func writeSavesTheFixedLab() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let out = "/tmp/csumlab-fix-\(getpid()).yaml"
        defer { unlink(out) }
        let r = Spawn.run([bin, "fix", Self.lab("seed-routed-userspace"), "--write", out, "--pick", "2"], capture: true)
        #expect(r.status == 1)
        let saved = try TopologyFile.load(path: out)
        let verdicts = try Simulator(saved.topology).run().flows.map(\.verdict.completes)
        #expect(verdicts.allSatisfy { $0 })
        #expect(saved.expectations["ssh"]?.verdict == .completes)
        // A second write does not replace the file without --force.
        #expect(Spawn.run([bin, "fix", Self.lab("seed-routed-userspace"), "--write", out], capture: true).status == 73)
    }

    /// A fix that works only because a wrong outer checksum goes unchecked (wireA's tx back on:
    /// the PARTIAL skb crosses the veth, nobody verifies the outer NAT left wrong) says so; a
    /// fix that repairs the checksum (noudpcsum) does not.
    @Test func aFixRelyingOnAnUncheckedBadChecksumSaysSo() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let r = Spawn.run([bin, "fix", Self.lab("vxlan-outer-masquerade"), "--all"], capture: true)
        #expect(r.status == 1)
        let blocks = r.output.components(separatedBy: "\nFix ")
        let txOn = try #require(blocks.first { $0.contains("wire.wireA.tx=on") && $0.contains("change") })
        #expect(txOn.contains("works only because a bad checksum goes unchecked"))
        #expect(txOn.contains("wire:wireB") || txOn.contains("nodeB:wireB"))
        let noCsum = try #require(blocks.first { $0.hasPrefix("1 (1 change): vxA.udpcsum=off") || $0.contains("): vxA.udpcsum=off\n") })
        #expect(!noCsum.contains("goes unchecked"))
        let json = Spawn.run([bin, "fix", Self.lab("vxlan-outer-masquerade"), "--all", "--json"], capture: true)
        #expect(json.output.contains("\"uncheckedBadChecksums\""))
    }
}
