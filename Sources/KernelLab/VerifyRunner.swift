import Simulation
import Wire

/// The result of checking one leg on the real kernel.
public struct LegResult: Sendable {
    public var flow: String
    public var leg: String
    public var from: String
    public var to: String
    public var injectedAt: String = ""
    public var observedAt: String = ""
    public var notCheckable: String?
    public var rows: [ComparisonRow] = []
}

/// Everything `csumlab verify` found for one topology file.
public struct FileResult: Sendable {
    public var file: String
    public var topology: String
    public var legs: [LegResult] = []
    public var features: [FeatureReading] = []
    /// Aspects of the file not checkable on this kernel (other profiles, unsupported nodes).
    public var notCheckable: [NotCheckable] = []
    public var notes: [String] = []
    /// The lab could not be built or the simulation failed.
    public var error: String?
    /// This kernel lacks what the file needs (a GENEVE driver): every leg is not checkable for
    /// this reason; the file is reported as such and does not fail the run.
    public var unavailable: String?

    public init(file: String, topology: String) {
        self.file = file
        self.topology = topology
    }

    public var rows: [ComparisonRow] { legs.flatMap(\.rows) + featureRows }

    public var featureRows: [ComparisonRow] {
        features.flatMap { r in
            Feature.allCases.map { f in
                ComparisonRow(point: "ethtool -k \(r.device)", frame: 0, observable: f.rawValue, kernel: r.kernel.contains(f) ? "on" : "off",
                              simulation: r.simulation.contains(f) ? "on" : "off")
            }
        }
    }

    public var compared: Int { rows.count }
    public var mismatched: Int { rows.filter { !$0.matches }.count }
    public var notCheckableCount: Int { notCheckable.count + legs.filter { $0.notCheckable != nil }.count }
    /// A file passes when something was compared, nothing mismatched and nothing failed — or when
    /// nothing could be built on this kernel for a stated reason (`unavailable`).
    public var passed: Bool { error == nil && mismatched == 0 && (compared > 0 || unavailable != nil) }
}

/// Runs `csumlab verify` for one topology: simulate at linux-6.x, build the lab, write every
/// checkable leg's frames and compare what arrives.
public final class VerifyRunner {
    public let prefix: RunPrefix
    public let executable: String
    public let agentArguments: [String]
    /// Leave the last lab standing (for inspection; `csumlab verify --cleanup` removes it).
    public var keep = false
    public private(set) var keptLab: VerifyLab?

    public init(prefix: RunPrefix, executable: String, agentArguments: [String]) {
        self.prefix = prefix
        self.executable = executable
        self.agentArguments = agentArguments
    }

    /// The topology as this kernel runs it: host side linux-6.x; guests keep their profiles (their
    /// stacks are not run, only their emitted frames are used).
    public static func onThisKernel(_ original: Topology) -> (Topology, [NotCheckable]) {
        var t = original
        var nc: [NotCheckable] = []
        if original.hostKernel != .linux6 {
            nc.append(NotCheckable(what: "host profile \(original.hostKernel.rawValue)",
                                   reason: "not checkable on this kernel (\(Host.kernelRelease)); the host side is compared with the simulation at linux-6.x"))
        }
        t.kernel = .linux6
        for (i, n) in t.nodes.enumerated() {
            switch n.kind {
            case .vm:
                let p = original.profile(of: n)
                if p != .linux6 {
                    nc.append(NotCheckable(what: "\(n.name)'s guest kernel (\(p.rawValue))", reason: "no guest kernel runs here: its send and receive paths are the model's; only the frames it emits are used"))
                }
            case let .router(r) where r.inVM:
                nc.append(NotCheckable(what: "\(n.name)'s router guest kernel (\(original.profile(of: n).rawValue))", reason: "stood in for by a csumlab relay that forwards like a default Linux guest"))
            case .router, .netns, .tap, .bridge, .veth, .hostNIC, .vxlan:
                if n.kernel != nil { t.nodes[i].kernel = nil }
            }
        }
        return (t, nc)
    }

    /// The lab as this host's bridges run it when br_netfilter is not loaded: every bridge
    /// `br-netfilter: off` (nothing passes bridged frames through the IP hooks, and nothing
    /// orphans them there), with a note for the report; the lab itself and nil when it has no
    /// bridge that would pass them. Loading the module (`modprobe br_netfilter`) compares the
    /// lab as written.
    public static func withoutBrNetfilter(_ t: Topology) -> (Topology, note: String?) {
        var out = t
        var changed: [String] = []
        for (i, n) in t.nodes.enumerated() where n.kind == .bridge && (n.brNetfilter ?? true) {
            out.nodes[i].brNetfilter = false
            changed.append(n.name)
        }
        guard !changed.isEmpty else { return (t, nil) }
        return (out, "br_netfilter is not loaded on this host, so \(changed.joined(separator: ", ")) pass\(changed.count == 1 ? "es" : "") no bridged frame through the IP hooks: "
                + "compared with the simulation at `br-netfilter: off` (`modprobe br_netfilter` to compare the lab as written)")
    }

    /// The simulation verify compares with: the lab on this kernel, a host's own TCP written
    /// as verify writes it — by an AF_PACKET socket, whose skbs carry `sock_wfree`
    /// (`Simulator.tcpWrittenByPacketSocket`).
    public static func simulate(_ t: Topology, flow: String?) throws(SimulationError) -> Trace {
        var sim = Simulator(t)
        sim.tcpWrittenByPacketSocket = true
        return try sim.run(flow: flow)
    }

    /// A note for the legs whose simulation differs because verify writes a host's TCP with
    /// AF_PACKET (a sock_wfree owner, which GRO on a veth keeps apart on the last segment),
    /// nil when none does: `csumlab trace` shows the stack's own TCP (tcp_wfree).
    static func standInNote(_ t: Topology, _ compared: Trace, flow: String?) -> String? {
        guard let own = try? Simulator(t).run(flow: flow) else { return nil }
        var legs: [String] = []
        for (a, b) in zip(compared.flows, own.flows) {
            for (la, lb) in zip(a.legs, b.legs) where la.steps != lb.steps { legs.append("\(a.flow)/\(la.name)") }
        }
        guard !legs.isEmpty else { return nil }
        return "\(legs.joined(separator: ", ")): verify writes a namespace's TCP with AF_PACKET, whose sock_wfree owner skb_segment() hands to the last segment "
            + "and GRO on a veth keeps apart (gro_list_prepare: p->sk != skb->sk); the simulation compared here does the same, while `csumlab trace` shows the stack's own "
            + "TCP (tcp_wfree, dropped by GRO: every segment merges)"
    }

    public func run(topology original: Topology, file: String, flow: String?) -> FileResult {
        run(topology: original, file: file, flow: flow, brNetfilterLoaded: Host.brNetfilterLoaded)
    }

    func run(topology original: Topology, file: String, flow: String?, brNetfilterLoaded: Bool) -> FileResult {
        var result = FileResult(file: file, topology: original.name)
        let (written, nc) = Self.onThisKernel(original)
        result.notCheckable = nc
        let (t, brNote) = brNetfilterLoaded ? (written, nil) : Self.withoutBrNetfilter(written)
        let trace: Trace
        do {
            trace = try Self.simulate(t, flow: flow)
        } catch {
            result.error = "simulation: \(error)"
            return result
        }
        if let note = Self.standInNote(t, trace, flow: flow) { result.notes.append(note) }
        // Legs whose simulated outcome differs in the file's own profiles are not checkable here
        // (br_netfilter as the file says: a host without it is compared as it runs the lab).
        // Both sides simulate what verify injects (`simulate`): only the profiles differ.
        let atLinux6 = written == t ? trace : try? Self.simulate(written, flow: flow)
        if original != written, let atLinux6, let orig = try? Self.simulate(original, flow: flow) {
            for (f6, fo) in zip(atLinux6.flows, orig.flows) {
                for (l6, lo) in zip(f6.legs, fo.legs) where l6.outcome != lo.outcome {
                    result.notCheckable.append(NotCheckable(what: "\(f6.flow)/\(lo.name) at the file's profiles",
                                                            reason: "\(lo.outcome.summary) there, \(l6.outcome.summary) at linux-6.x: not checkable on this kernel"))
                }
            }
        }
        var plan = LabPlan(t)
        plan.brNetfilterLoaded = brNetfilterLoaded
        result.notes = plan.notes + (brNote.map { [$0] } ?? []) + result.notes
        for (node, why) in plan.unsupported.sorted(by: { $0.key < $1.key }) {
            result.notCheckable.append(NotCheckable(what: node, reason: why))
        }
        if let bad = Self.macDrift(trace, plan) {
            result.error = bad
            return result
        }
        // GENEVE devices need the driver (CONFIG_GENEVE); without it no leg of the file can be
        // built: each is reported not checkable, never skipped silently.
        if t.nodes.contains(where: { if case let .vxlan(v) = $0.kind { return v.geneve }; return false }),
           let why = genevePresent() {
            for f in trace.flows {
                for leg in f.legs {
                    result.legs.append(LegResult(flow: f.flow, leg: leg.name, from: leg.from, to: leg.to, notCheckable: why))
                }
            }
            result.unavailable = why
            return result
        }
        var effective: [String: Set<Feature>] = [:]
        for d in trace.devices { effective[d.device] = Set(d.on) }
        for (fi, f) in trace.flows.enumerated() {
            var checks: [(LegTrace, Result<LegCheck, NotCheckableLeg>)] = []
            for leg in f.legs { checks.append((leg, LegCheck.make(leg, plan: plan))) }
            if !checks.contains(where: { if case .success = $0.1 { return true }; return false }) {
                for (leg, c) in checks {
                    if case let .failure(e) = c {
                        result.legs.append(LegResult(flow: f.flow, leg: leg.name, from: leg.from, to: leg.to, notCheckable: e.reason))
                    }
                }
                continue
            }
            let lab = VerifyLab(plan: plan, prefix: prefix, executable: executable, agentArguments: agentArguments)
            let last = fi == trace.flows.count - 1
            do {
                let readings = try lab.build(effective: effective)
                if result.features.isEmpty { result.features = readings }
                for (leg, c) in checks {
                    var r = LegResult(flow: f.flow, leg: leg.name, from: leg.from, to: leg.to)
                    switch c {
                    case let .failure(e):
                        r.notCheckable = e.reason
                    case let .success(check):
                        r.injectedAt = check.injectionLabel
                        r.observedAt = check.points.map { $0.label(in: plan) }.joined(separator: ", ")
                        r.rows = try Self.runLeg(check, lab)
                    }
                    result.legs.append(r)
                }
            } catch {
                result.error = "flow \(f.flow): \(error)"
            }
            if keep && last {
                lab.release()
                keptLab = lab
            } else {
                lab.teardown()
            }
            if result.error != nil { break }
        }
        return result
    }

    /// Whether this kernel can create a GENEVE device: nil when it can, else the reason legs are
    /// not checkable. Tried once per run in a scratch namespace of this run's prefix.
    public func genevePresent() -> String? {
        if let known = geneveProbe { return known }
        let r = Self.probeGeneve(namespace: prefix.namespace("geneve-probe"))
        geneveProbe = .some(r)
        return r
    }
    /// The probe's answer once asked (tests set it: `.some(reason)` for a kernel without the driver).
    var geneveProbe: String??

    /// `ip link add … type geneve` in namespace `ns` (created and deleted here): nil on success,
    /// else "CONFIG_GENEVE unset: …" with what `ip` said.
    static func probeGeneve(namespace ns: String) -> String? {
        do {
            try Spawn.check(["ip", "netns", "add", ns])
        } catch {
            return "the GENEVE probe could not create a namespace (\(error))"
        }
        defer { _ = try? Spawn.run(["ip", "netns", "del", ns]) }
        let r: CommandResult
        do {
            r = try Spawn.run(["ip", "-n", ns, "link", "add", "name", "gnv0", "type", "geneve", "id", "1", "remote", "192.0.2.1"])
        } catch {
            return "`ip link add type geneve` could not run (\(error))"
        }
        return Self.genevePresence(status: r.status, stderr: r.stderr)
    }

    /// The probe's verdict from `ip`'s exit status and message.
    static func genevePresence(status: Int32, stderr: String) -> String? {
        guard status != 0 else { return nil }
        let said = stderr.split(separator: "\n").first.map(String.init) ?? "exit \(status)"
        return "CONFIG_GENEVE unset (`ip link add … type geneve` fails on this kernel: \(said))"
    }

    /// The errno name (`EINVAL`) in a failed write's message, as `LabError.errnoName` spells it.
    static func errnoName(in message: String) -> String? {
        message.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "(" }).map(String.init).first { w in
            w.count >= 3 && w.first == "E" && w.allSatisfy { $0.isUppercase && $0.isLetter }
        }
    }

    /// The simulated NICs' MACs must be the ones the lab uses (LabGraph mirrors the simulator).
    static func macDrift(_ trace: Trace, _ plan: LabPlan) -> String? {
        for f in trace.flows {
            for l in f.legs {
                for s in l.steps where s.emitsVirtioHeader && s.direction == .transmit && s.frame.count >= 12 {
                    guard let iface = s.interface, let d = plan.graph.device(named: "\(s.element):\(iface)") else { continue }
                    if Array(s.frame[6..<12]) != plan.graph.devices[d].mac {
                        return "internal: the simulator's MAC for \(s.element):\(iface) (\(MAC.format(Array(s.frame[6..<12])))) is not the lab's (\(MAC.format(plan.graph.devices[d].mac)))"
                    }
                }
            }
        }
        return nil
    }

    /// Write the leg's frames and read every point; compare with the simulation.
    static func runLeg(_ c: LegCheck, _ lab: VerifyLab) throws(LabError) -> [ComparisonRow] {
        // Captures: open (once per lab) and drain.
        for cap in c.captures {
            let a = try lab.agent(cap.role)
            if (try? a.call(["observed", cap.device, "0"])) == nil { try a.call(["observe", cap.device, "0"]) }
        }
        for p in c.points {
            switch p {
            case let .tap(role, name, _): try lab.agent(role).call(["drain", name])
            case let .packet(role, dev), let .packetTx(role, dev):
                let a = try lab.agent(role)
                if (try? a.call(["observed", dev, "0"])) == nil { try a.call(["observe", dev, "0"]) }
            }
        }
        var writeResult = "ok"
        for w in c.writes {
            do {
                switch c.injection {
                case let .tap(role, name): try lab.agent(role).call(["write", name, agentHex(w)])
                case let .packet(role, dev, vnet): try lab.agent(role).call(["send", dev, vnet ? "1" : "0", agentHex(w)])
                case let .udp(role, src, sport, dst, dport):
                    try lab.agent(role).call(["udp-send", src, "\(sport)", dst, "\(dport)", agentHex(w)])
                }
            } catch {
                writeResult = Self.errnoName(in: "\(error)") ?? "error: \(error)"
            }
        }
        // Wait long for frames the simulation expects (a loaded machine schedules the helpers
        // late), shorter to be sure none come when it expects none.
        let first = c.expected.isEmpty ? "400" : "1500"
        var seen: [Observation] = []
        for p in c.points {
            switch p {
            case let .tap(role, name, vnet):
                for line in try lab.agent(role).call(["read", name, "100", "5000", first]).data where line.hasPrefix("frame ") {
                    guard let b = bytesFromHex(String(line.dropFirst(6))) else { continue }
                    let hs = vnet ? 10 : 0
                    guard b.count > hs else { continue }
                    let frame = Array(b[hs...])
                    guard c.identity?.matches(frame) ?? true else { continue }
                    seen.append(Observation(vnet: vnet ? try? VirtioNetHeader(parsing: Array(b[0..<10])) : nil, frame: frame))
                }
            case let .packet(role, dev), let .packetTx(role, dev):
                var outgoing = false
                if case .packetTx = p { outgoing = true }
                for line in try lab.agent(role).call(["observed", dev, "100", first]).data {
                    let w = line.split(separator: " ")
                    guard w.count == 4, w[0] == "packet", let type = Int32(w[1]), let st = UInt32(w[2]), let b = bytesFromHex(String(w[3])) else { continue }
                    guard (type == 4) == outgoing, c.identity?.matches(b) ?? true else { continue }
                    seen.append(Observation(status: ChecksumStatus(tpStatus: st), frame: b))
                }
            }
        }
        var rows = [ComparisonRow(frame: 0, observable: "write", kernel: writeResult, simulation: c.expectedWrite)]
            + LegComparison.compare(kernel: seen, simulation: c.expected, l4BytesOnly: c.kernelBuildsIPHeader, hdrLen: c.hdrLenComparable)
        var captured: [String: [(Bool, Observation)]] = [:]
        for cap in c.captures where captured[cap.role + "/" + cap.device] == nil {
            var got: [(Bool, Observation)] = []
            for line in try lab.agent(cap.role).call(["observed", cap.device, "0"]).data {
                let w = line.split(separator: " ")
                guard w.count == 4, w[0] == "packet", let type = Int32(w[1]), let st = UInt32(w[2]), let b = bytesFromHex(String(w[3])),
                      c.identity?.matches(b) ?? true else { continue }
                got.append((type == 4, Observation(status: ChecksumStatus(tpStatus: st), frame: b)))
            }
            captured[cap.role + "/" + cap.device] = got
        }
        for cap in c.captures {
            let got = (captured[cap.role + "/" + cap.device] ?? []).filter { $0.0 == cap.outgoing }.map(\.1)
            rows += LegComparison.compare(kernel: got, simulation: cap.expected, l4BytesOnly: c.kernelBuildsIPHeader, hdrLen: c.hdrLenComparable, point: cap.label)
        }
        return rows
    }
}

private extension Step {
    /// The guest driver's or a TAP's `virtio_net_hdr_from_skb()`.
    var emitsVirtioHeader: Bool {
        switch event {
        case .virtioXmit, .tunPutUser(vnet: .some, _): return true
        default: return false
        }
    }
}
