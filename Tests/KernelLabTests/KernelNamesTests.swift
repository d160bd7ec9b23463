#if canImport(Glibc)
import Glibc
#endif
import Testing
import Simulation
import TopologyFile
@testable import KernelLab

/// Labs whose names the kernel would refuse or confuse if they were used as they are.
enum AwkwardNames {
    static let cjk64 = String(repeating: "路由器", count: 21) + "路"
    static let cjk64b = String(repeating: "容器", count: 32)
    static let cjkEnd64 = String(repeating: "接口", count: 32)
    static let ascii64 = String(repeating: "abcdefgh", count: 8)

    /// Nodes named `all`, `default`, `a-b` and `a_b`: four netns hosts on a bridge with a
    /// 64-character name.
    static let nodes = """
        csumlab: 1
        name: node-names
        kernel: linux-6.x
        nodes:
          \(ascii64): {kind: bridge}
          v1: {kind: veth, ends: {v1-br: {}, v1-c: {}}}
          v2: {kind: veth, ends: {v2-br: {}, v2-c: {}}}
          v3: {kind: veth, ends: {v3-br: {}, v3-c: {}}}
          v4: {kind: veth, ends: {v4-br: {}, v4-c: {}}}
          all: {kind: netns, interfaces: {eth0: {address: 10.0.0.1/24}}}
          default: {kind: netns, interfaces: {eth0: {address: 10.0.0.2/24}}}
          a-b: {kind: netns, interfaces: {eth0: {address: 10.0.0.3/24}}}
          a_b: {kind: netns, interfaces: {eth0: {address: 10.0.0.4/24}}}
        links:
          - endpoints: ["\(ascii64)", "v1:v1-br"]
          - endpoints: ["\(ascii64)", "v2:v2-br"]
          - endpoints: ["\(ascii64)", "v3:v3-br"]
          - endpoints: ["\(ascii64)", "v4:v4-br"]
          - endpoints: ["v1:v1-c", "all:eth0"]
          - endpoints: ["v2:v2-c", "default:eth0"]
          - endpoints: ["v3:v3-c", "a-b:eth0"]
          - endpoints: ["v4:v4-c", "a_b:eth0"]
        flows:
          tcp: {type: tcp, from: all, to: default, payload: 300}
          udp: {type: udp, from: a-b, to: a_b, payload: 100}
          ping: {type: icmp, from: a_b, to: all}

        """

    /// Devices named `all` (a TAP), `default` (a bridge), `a-b` and `a_b` (the ends of one veth
    /// pair), a 64-character CJK router and container of equal length, and 64-character veth ends.
    static let devices = """
        csumlab: 1
        name: device-names
        kernel: linux-6.x
        nodes:
          虚拟机: {kind: vm, interfaces: {eth0: {address: 10.0.1.2/24, gateway: 10.0.1.1}}}
          all: {kind: tap}
          default: {kind: bridge}
          v1: {kind: veth, ends: {a-b: {}, a_b: {}}}
          \(cjk64):
            kind: router
            flavour: netns
            interfaces:
              eth0: {address: 10.0.1.1/24}
              接口: {address: 10.0.2.1/24}
          v2: {kind: veth, ends: {\(cjkEnd64): {}, \(ascii64): {}}}
          \(cjk64b): {kind: netns, interfaces: {eth0: {address: 10.0.2.2/24, gateway: 10.0.2.1}}}
        links:
          - endpoints: ["虚拟机:eth0", "all"]
          - endpoints: ["all", "default"]
          - endpoints: ["default", "v1:a-b"]
          - endpoints: ["v1:a_b", "\(cjk64):eth0"]
          - endpoints: ["\(cjk64):接口", "v2:\(cjkEnd64)"]
          - endpoints: ["v2:\(ascii64)", "\(cjk64b):eth0"]
        flows:
          ssh: {type: tcp, from: 虚拟机, to: \(cjk64b), port: 22, payload: 200}
          dns: {type: udp, from: \(cjk64b), to: 虚拟机, port: 53, payload: 40}
          ping: {type: icmp, from: 虚拟机, to: \(cjk64b)}

        """

    static func plan(_ text: String, file: String) throws -> LabPlan {
        LabPlan(VerifyRunner.onThisKernel(try TopologyFile.parse(text, file: file).topology).0)
    }
}

/// The kernel's names for a lab (pure; no kernel).
@Suite struct KernelNamesTests {
    static func allNames(_ n: KernelNames) -> [String] { n.nodeNamespaces + n.wireNamespaces + n.devices + [KernelNames.hub] }

    static func isSafeASCII(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
    }

    @Test(arguments: [("nodes", AwkwardNames.nodes), ("devices", AwkwardNames.devices)])
    func everyNameIsShortASCIIUniqueAndSafe(label: String, text: String) throws {
        let plan = try AwkwardNames.plan(text, file: label + ".yaml")
        let names = plan.names
        let all = Self.allNames(names)
        #expect(Set(all).count == all.count, "names repeat: \(all)")
        #expect(all.allSatisfy(Self.isSafeASCII), "\(all)")
        #expect(names.devices.allSatisfy(KernelNames.isKernelSafeDeviceName), "\(names.devices)")
        #expect(all.allSatisfy { !["all", "default", "lo"].contains($0) })
        // Namespace names with the longest run prefix (pid_max is 2^22) stay far from NAME_MAX.
        let prefix = RunPrefix(pid: 4_194_304)
        #expect(plan.namespaces.allSatisfy { prefix.namespace($0.role).utf8.count <= 40 }, "\(plan.namespaces.map(\.role))")
        // The plan uses them, and keeps the file's names for the report.
        #expect(plan.devices.values.allSatisfy { $0.name == names.devices[$0.graphID] && $0.simName == plan.graph.devices[$0.graphID].name })
        #expect(Set(plan.namespaces.map(\.role)).count == plan.namespaces.count)
    }

    @Test func theNamesAreDeterministic() throws {
        let a = try AwkwardNames.plan(AwkwardNames.devices, file: "d.yaml").names
        let b = try AwkwardNames.plan(AwkwardNames.devices, file: "d.yaml").names
        #expect(a == b)
        #expect(a.devices.count == (try AwkwardNames.plan(AwkwardNames.devices, file: "d.yaml")).graph.devices.count)
    }

    /// Names that differ only in characters a kernel name cannot hold (or that only look alike)
    /// get different namespaces; before, `a b` and `a_b` shared `n-a_b`, and two CJK names of
    /// one length shared `n-___…`. Built in code: `a b` and `a.b` would not pass validation.
    @Test func namesThatDifferOnlyInUnsafeCharactersDoNotCollide() {
        let hosts = ["a b", "a_b", "a-b", "a.b", "all", "default", AwkwardNames.cjk64, AwkwardNames.cjk64b, "a\u{1B}b"]
        var t = Topology(name: "collisions")
        t.nodes.append(Node(name: "br", kind: .bridge))
        for (i, h) in hosts.enumerated() {
            t.nodes.append(Node(name: "v\(i)", kind: .veth, interfaces: [Interface(name: "v\(i)-br"), Interface(name: "v\(i)-c")]))
            t.nodes.append(Node(name: h, kind: .netns(Netfilter()), interfaces: [Interface(name: "eth0", addresses: [IPNetwork("10.0.0.\(i + 1)/24")!])]))
            t.links.append(Link(Endpoint(node: "br"), Endpoint(node: "v\(i)", interface: "v\(i)-br")))
            t.links.append(Link(Endpoint(node: "v\(i)", interface: "v\(i)-c"), Endpoint(node: h, interface: "eth0")))
        }
        let plan = LabPlan(t)
        let roles = hosts.map { plan.hostRole(named: $0) }
        #expect(roles.allSatisfy { $0 != nil }, "\(roles)")
        #expect(Set(roles.compactMap { $0 }).count == hosts.count, "\(roles)")
        #expect(roles.compactMap { $0 }.allSatisfy(Self.isSafeASCII))
        // Every host's interface lands in its own namespace, under a generated name.
        for h in hosts {
            let devs = plan.interfaces(ofHost: h)
            #expect(devs.count == 1 && devs[0].role == plan.hostRole(named: h) && KernelNames.isKernelSafeDeviceName(devs[0].name))
        }
        #expect(plan.namespaces.first { $0.role == plan.hostRole(named: AwkwardNames.cjk64) }?.node == AwkwardNames.cjk64)
    }

    @Test func aNameIsItsKindAndNumberThenAHintThatFits() {
        #expect(KernelNames.name("d", 7, "br0", limit: 15) == "d7-br0")
        #expect(KernelNames.name("d", 12, AwkwardNames.ascii64, limit: 15) == "d12-abcdefghabc")
        #expect(KernelNames.name("d", 3, AwkwardNames.cjk64, limit: 15) == "d3", "no ASCII to hint with")
        #expect(KernelNames.name("d", 123_456_789_012, "x", limit: 15) == "d123456789012-x")
        #expect(KernelNames.name("d", 1_234_567_890_123, "x", limit: 15) == "d1234567890123")
        #expect(KernelNames.name("n", 4, "all", limit: 18) == "n4-all")
        #expect(KernelNames.hint(of: "v.m 1\u{1B}é") == "vm1")
        #expect(!KernelNames.isKernelSafeDeviceName("all") && !KernelNames.isKernelSafeDeviceName("default")
                && !KernelNames.isKernelSafeDeviceName("a b") && !KernelNames.isKernelSafeDeviceName(String(repeating: "a", count: 16))
                && KernelNames.isKernelSafeDeviceName("d7-br0"))
    }

    @Test func theReportShowsTheFilesNames() throws {
        let plan = try AwkwardNames.plan(AwkwardNames.devices, file: "devices.yaml")
        let trace = try Simulator(plan.topology).run(flow: "ssh")
        let c = try LegCheck.make(trace.flows[0].legs[0], plan: plan).get()
        #expect(c.injectionLabel == "all (TAP fd)")
        #expect(c.points.map { $0.label(in: plan) } == ["\(AwkwardNames.ascii64) (AF_PACKET, TPACKET_V2 ring)"])
        #expect(c.captures.map(\.label) == ["all rx", "a-b tx", "a_b rx", "\(AwkwardNames.cjkEnd64) tx"])
    }
}

/// `csumlab verify` builds, compares and removes labs with these names (root, in CI).
@Suite(.serialized) struct KernelNamesRootTests {
    @Test(.enabled(if: VerifyCleanupTests.enabled, VerifyCleanupTests.requirement("needs root, /dev/net/tun, network namespaces and a built csumlab")),
          arguments: [("node-names", AwkwardNames.nodes), ("device-names", AwkwardNames.devices)])
    func verifyBuildsComparesAndRemovesTheLab(name: String, text: String) throws {
        var dirTemplate = Array("/tmp/csumlab-names-XXXXXX".utf8CString)
        let dir = try #require(mkdtemp(&dirTemplate).map { String(cString: $0) })
        let file = dir + "/" + name + ".yaml"
        defer {
            unlink(file)
            rmdir(dir)
        }
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        let (status, report, pid) = try VerifyCleanupTests.runVerify(file)
        #expect(status == 0, "\(report.suffix(3000))")
        #expect(report.contains("mismatched 0  → pass"), "\(report.suffix(3000))")
        #expect(!report.contains("not checkable: "), "every leg must be checked: \(report)")
        #expect(Namespaces.list(prefix: RunPrefix(pid: pid)).isEmpty, "the run left its lab behind")
    }
}
