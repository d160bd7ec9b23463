import Checksum
import Wire

// A VXLAN tunnel device over IPv4 or IPv6 (#16): encapsulation with the outer UDP checksum as
// `udp_set_csum()` leaves it (LCO included), NAT of the outer header, tunnel segmentation, and
// the receive side up to the inner frame. A GENEVE device walks the same way with its own
// header and checksum rule (`Geneve.swift`). The rules and their sources:
// assets/kernel-reference-notes.md, "Tunnels (VXLAN, GENEVE): what the source says" (T2, T3,
// R1–R4, N1–N3) and "Measured on 6.18".

/// A VXLAN device as `ip link add NAME type vxlan id VNI local A remote B dstport P dev UNDERLAY
/// [udpcsum|noudpcsum]` creates it.
public struct VxlanSettings: Sendable, Hashable {
    public var vni: UInt32
    /// Nil until set; the validator requires `local`, `remote` and `underlay`.
    public var local: IPAddress?
    public var remote: IPAddress?
    /// 4789 (IANA), 8472 for flannel and the Linux default without `dstport`.
    public var dstPort: UInt16
    /// The namespace interface the outer packets leave by (`dev`).
    public var underlay: String?
    /// `udpcsum` / `noudpcsum`; nil: neither given, the kernel default applies (`udpCsum(on:)`).
    public var udpCsum: Bool?
    /// kube-proxy's `iptables -t nat -A POSTROUTING -p udp --dport DSTPORT -j MASQUERADE
    /// --random-fully` in this device's namespace: the outer source port is rewritten
    /// (the inner mark survives `skb_scrub_packet()` inside one namespace, T4).
    public var outerMasquerade: Bool
    /// `udp6zerocsumtx` (`VXLAN_F_UDP_ZERO_CSUM6_TX`): over IPv6, send a zero outer checksum.
    public var udp6ZeroCsumTx: Bool
    /// `udp6zerocsumrx` (`VXLAN_F_UDP_ZERO_CSUM6_RX` → the socket's `no_check6_rx`): over IPv6,
    /// accept a zero outer checksum (refused otherwise, RFC 6936).
    public var udp6ZeroCsumRx: Bool
    /// A GENEVE device (`kind: geneve`, `ip link add NAME type geneve id VNI remote B …`) rather
    /// than VXLAN: the same UDP tunnel machinery (`udp_tunnel_handle_offloads()`,
    /// `udp_tunnel_xmit_skb()`, the encap socket), another header and other checksum defaults.
    public var geneve: Bool

    /// The IANA port of the tunnel type: 4789 (VXLAN), 6081 (GENEVE, `Geneve.swift`).
    public static func defaultPort(geneve: Bool) -> UInt16 { geneve ? genevePort : 4789 }

    public init(vni: UInt32 = 1, local: IPAddress? = nil, remote: IPAddress? = nil, dstPort: UInt16? = nil, underlay: String? = nil,
                udpCsum: Bool? = nil, outerMasquerade: Bool = false, udp6ZeroCsumTx: Bool = false, udp6ZeroCsumRx: Bool = false,
                geneve: Bool = false) {
        self.geneve = geneve
        self.udp6ZeroCsumTx = udp6ZeroCsumTx
        self.udp6ZeroCsumRx = udp6ZeroCsumRx
        self.vni = vni
        self.local = local
        self.remote = remote
        self.dstPort = dstPort ?? Self.defaultPort(geneve: geneve)
        self.underlay = underlay
        self.udpCsum = udpCsum
        self.outerMasquerade = outerMasquerade
    }

    /// Whether the outer UDP checksum is computed. 6.x: on unless `IFLA_VXLAN_UDP_CSUM` is 0
    /// (`VXLAN_F_UDP_ZERO_CSUM_TX`); 4.4 and older: off unless it is 1 (`VXLAN_F_UDP_CSUM`).
    public func udpCsum(on profile: KernelProfile) -> Bool {
        udpCsum ?? (profile == .linux6)
    }

    /// Whether the tunnel's underlay is IPv6 (`local` decides).
    public var overIPv6: Bool { local?.version == .v6 }

    /// The `udp_sum` `vxlan_xmit_one()` uses: IPv4 `!(flags & VXLAN_F_UDP_ZERO_CSUM_TX)` (the
    /// `udpcsum` setting), IPv6 `!(flags & VXLAN_F_UDP_ZERO_CSUM6_TX)`. A GENEVE device follows
    /// `geneve_nl2info()` instead (`geneveOuterChecksum(on:)`, `Geneve.swift`).
    public func outerChecksum(on profile: KernelProfile) -> Bool {
        if geneve { return geneveOuterChecksum(on: profile) }
        return overIPv6 ? !udp6ZeroCsumTx : udpCsum(on: profile)
    }

    /// The node settings of a `vxlan` node (besides its ethtool features).
    public static let keys = ["vni", "local", "remote", "dstport", "underlay", "udpcsum", "outer-masquerade", "udp6zerocsumtx", "udp6zerocsumrx"]

    public mutating func set(_ key: String, _ value: String) throws(SettingError) {
        switch key {
        case "vni":
            guard let n = UInt32(value), n < 1 << 24 else { throw SettingError("'vni' expects a number 0–16777215, got '\(value)'") }
            vni = n
        case "local", "remote":
            guard let a = IPAddress(value) else {
                throw SettingError("'\(key)' expects an IPv4 or IPv6 address, got '\(value)'")
            }
            if key == "local" { local = a } else { remote = a }
        case "dstport":
            guard let n = UInt16(value), n > 0 else { throw SettingError("'dstport' expects a port 1–65535, got '\(value)'") }
            dstPort = n
        case "underlay":
            guard NameRule.problem(value) == nil else { throw SettingError("'underlay' expects an interface name of the same namespace, got '\(value)'") }
            underlay = value
        case "udpcsum":
            if value == "default" || value == "auto" { udpCsum = nil; return }
            guard let b = Topology.parseBool(value) else { throw SettingError("'udpcsum' expects on, off or auto (the kernel's default), got '\(value)'") }
            udpCsum = b
        case "outer-masquerade":
            guard let b = Topology.parseBool(value) else { throw SettingError("'outer-masquerade' expects on or off, got '\(value)'") }
            outerMasquerade = b
        case "udp6zerocsumtx", "udp6zerocsumrx":
            guard let b = Topology.parseBool(value) else { throw SettingError("'\(key)' expects on or off, got '\(value)'") }
            if key == "udp6zerocsumtx" { udp6ZeroCsumTx = b } else { udp6ZeroCsumRx = b }
        default:
            throw SettingError("unknown setting '\(key)' for a vxlan (expected one of: \(Self.keys.joined(separator: ", ")))")
        }
    }
}

/// The branch `udp_set_csum()` took for the outer UDP checksum (T3).
public enum OuterChecksumBranch: String, Sendable, Hashable, CaseIterable {
    /// `nocheck`: the field is 0 ("no checksum", RFC 768).
    case zero
    /// A GSO skb: the outer pseudo-header sum of the super-frame, fixed per segment later.
    case gsoPseudo = "gso-pseudo"
    /// 6.x local checksum offload: the final outer checksum computed with `lco_csum()` while the
    /// inner checksum is still pending (`CHECKSUM_PARTIAL` for the inner).
    case lco
    /// The outer field becomes the pending one (`CHECKSUM_PARTIAL`, `csum_start` = outer UDP).
    case pending
    /// 4.4 on a route device without IPv4 checksum offload: the whole outer sum in software.
    case software
}

/// What `vxlan_xmit_one()` made of an inner frame.
public struct VxlanEncapsulation: Sendable, Hashable {
    /// Outer Ethernet + IPv4 + UDP + VXLAN, then the inner frame.
    public var frame: Frame
    public var skb: SkbState
    /// `skb->encapsulation`: the pending checksum (if any) is the inner one.
    public var encapsulation: Bool
    /// 4.4 with the outer checksum on: `iptunnel_handle_offloads()` completed the inner first.
    public var innerCompleted: Bool
    public var branch: OuterChecksumBranch
    /// The outer UDP checksum field as written.
    public var outerField: UInt16
}

/// The receive side of a VXLAN endpoint for one outer frame.
public struct VxlanReception: Sendable, Hashable {
    /// `udp4_csum_init()` / `udp_queue_rcv_one_skb()` on the outer UDP header.
    public var outerCheck: StepEvent.ReceiveCheck
    /// Nil when the outer checksum was wrong: dropped, `Udp: InCsumErrors` and `Udp: InErrors`.
    public var inner: (frame: Frame, skb: SkbState)?

    public static func == (a: VxlanReception, b: VxlanReception) -> Bool {
        a.outerCheck == b.outerCheck && a.v6 == b.v6 && a.inner?.frame == b.inner?.frame && a.inner?.skb == b.inner?.skb
    }

    public func hash(into h: inout Hasher) {
        h.combine(outerCheck)
        h.combine(inner?.frame)
        h.combine(inner?.skb)
    }

    /// The counters a dropped packet increments (`__udp4_lib_rcv()` / `__udp6_lib_rcv()` →
    /// `csum_error:`).
    public var counters: [String] {
        guard inner == nil else { return [] }
        return v6 ? ["Udp6: InCsumErrors", "Udp6: InErrors"] : ["Udp: InCsumErrors", "Udp: InErrors"]
    }
    /// The outer header is IPv6.
    public var v6 = false
}

public enum VxlanError: Error, Sendable, Hashable, CustomStringConvertible {
    case notIPv4(String)
    case innerNotParsed(String)
    case unconfigured(String)

    public var description: String {
        switch self {
        case let .notIPv4(what): return "not modelled over an IPv6 underlay yet (\(what))"
        case let .innerNotParsed(why): return "the inner frame does not parse: \(why)"
        case let .unconfigured(what): return "the vxlan device has no \(what)"
        }
    }
}

public enum Vxlan {
    /// Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8): `VXLAN_HEADROOM` for IPv4.
    public static let outerHeaderLength = 50
    /// Outer Ethernet (14) + IPv6 (40) + UDP (8) + VXLAN (8): `VXLAN6_HEADROOM`.
    public static let outerHeaderLength6 = 70
    static let outerL3 = 14
    static let outerL4 = 34
    static let udpChecksumOffset = 6

    /// The 8-byte VXLAN header `vxlan_xmit_one()` writes: flags `VXLAN_HF_VNI` (0x08), the VNI,
    /// a reserved byte (a GENEVE device writes `Geneve.header(vni:)`).
    static func header(vni: UInt32) -> [UInt8] {
        [0x08, 0, 0, 0, UInt8(vni >> 16 & 0xFF), UInt8(vni >> 8 & 0xFF), UInt8(vni & 0xFF), 0]
    }

    /// Whether an outer frame is IPv6 (EtherType 0x86DD).
    static func isIPv6(_ b: [UInt8]) -> Bool { b.count > 13 && b[12] == 0x86 && b[13] == 0xDD }
    /// The outer UDP header's offset in an outer frame.
    static func l4(_ b: [UInt8]) -> Int { isIPv6(b) ? 54 : outerL4 }
    /// The inner frame's offset in an outer frame.
    public static func headerLength(_ b: [UInt8]) -> Int { isIPv6(b) ? outerHeaderLength6 : outerHeaderLength }

    /// The outer UDP source port: the kernel hashes the inner flow (`udp_flow_src_port()`) into
    /// the local port range; the model uses a fixed hash of the inner addresses and ports into
    /// 32768–60999, so one flow keeps one port, as in the kernel.
    public static func sourcePort(inner: Frame) -> UInt16 {
        guard let l = try? inner.layout() else { return 32768 }
        var h: UInt32 = 2166136261
        for b in inner.sourceAddress(l) + inner.destinationAddress(l) { h = (h ^ UInt32(b)) &* 16777619 }
        if l.l4Protocol == .tcp || l.l4Protocol == .udp {
            for p in [inner.sourcePort(l), inner.destinationPort(l)] { h = (h ^ UInt32(p)) &* 16777619 }
        }
        return UInt16(32768 + h % (61000 - 32768))
    }

    /// `vxlan_xmit_one()` → `vxlan_build_skb()` → `iptunnel_handle_offloads()` (T2), then
    /// `udp_tunnel_xmit_skb()` → `udp_set_csum()` (T3).
    /// - Parameter underlayIPv4Checksum: the route device has `NETIF_F_V4_CSUM` (4.4's test).
    public static func encapsulate(inner: Frame, skb: SkbState, settings: VxlanSettings, profile: KernelProfile,
                                   underlayIPv4Checksum: Bool, sourceMAC: [UInt8], destinationMAC: [UInt8],
                                   sourcePort: UInt16, ipID: UInt16 = 0) throws(VxlanError) -> VxlanEncapsulation {
        guard let local = settings.local, let remote = settings.remote else { throw .unconfigured("local and remote") }
        guard local.version == remote.version else { throw .unconfigured("local and remote of one address family (local \(local), remote \(remote))") }
        let v6 = local.version == .v6
        let hl = v6 ? outerHeaderLength6 : outerHeaderLength
        let l4 = v6 ? 54 : outerL4
        let innerLayout: FrameLayout
        do { innerLayout = try inner.layout() } catch { throw .innerNotParsed("\(error)") }
        let udpSum = settings.outerChecksum(on: profile)
        var innerFrame = inner
        var s = skb
        var encapsulation = false
        var innerCompleted = false
        // iptunnel_handle_offloads(): a GSO skb keeps its state (gso_type |= UDP_TUNNEL[_CSUM]).
        if !s.isGSO {
            if profile != .linux6 && udpSum && s.ipSummed == .partial {
                // 4.4: `if (skb->ip_summed == CHECKSUM_PARTIAL && csum_help) skb_checksum_help(skb);`
                innerFrame.completeChecksum(start: s.csumStart, offset: s.csumOffset, end: innerLayout.end,
                                            mangleZero: profile.checksumHelpMangles0)
                s = s.with(.none)
                innerCompleted = true
            } else if s.ipSummed == .partial {
                encapsulation = true
                s.csumStart += hl
            } else {
                s = s.with(.none)
            }
        } else {
            encapsulation = true
            if s.ipSummed == .partial { s.csumStart += hl }
        }
        let udpLength = 8 + 8 + innerFrame.count
        let udp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(settings.dstPort >> 8), UInt8(settings.dstPort & 0xFF),
                            UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]
            + (settings.geneve ? Geneve.header(vni: settings.vni) : Vxlan.header(vni: settings.vni))
        var frame: Frame
        let pseudo: UInt32
        if v6 {
            // IPv6: traffic class 0, flow label 0 in the model (the kernel's is hashed, `verify`
            // does not compare it), hop limit 64 (`ip6_dst_hoplimit()`).
            var b = destinationMAC + sourceMAC + [0x86, 0xDD]
            b += [0x60, 0, 0, 0, UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 17, 64]
            b += local.bytes + remote.bytes + udp + innerFrame.bytes
            frame = Frame(bytes: b)
            pseudo = InternetChecksum.pseudoHeaderIPv6(source: local.bytes, destination: remote.bytes, nextHeader: 17, length: UInt32(udpLength))
        } else {
            var b = destinationMAC + sourceMAC + [0x08, 0x00]
            let total = 20 + udpLength
            // IPv4: DF unset (vxlan `df` default), TTL 64 (`ip4_dst_hoplimit()`), the ID the
            // caller reserved (`Walk.outerIPID`).
            b += [0x45, 0x00, UInt8(total >> 8), UInt8(total & 0xFF), UInt8(ipID >> 8), UInt8(ipID & 0xFF), 0, 0, 64, 17, 0, 0]
            b += local.bytes + remote.bytes + udp + innerFrame.bytes
            frame = Frame(bytes: b)
            frame.bytes.setBE16(InternetChecksum.ipv4HeaderChecksum(Array(b[outerL3..<outerL4])), at: outerL3 + 10)
            pseudo = InternetChecksum.pseudoHeaderIPv4(source: frame.bytes.be32(at: outerL3 + 12), destination: frame.bytes.be32(at: outerL3 + 16),
                                                       protocol: 17, length: UInt32(udpLength))
        }
        let branch: OuterChecksumBranch
        let field: UInt16
        if !udpSum {
            branch = .zero
            field = 0
        } else if s.isGSO {
            branch = .gsoPseudo
            field = InternetChecksum.fold(pseudo)
        } else if profile == .linux6 && s.ipSummed == .partial {
            // uh->check = udp_v4_check(len, saddr, daddr, lco_csum(skb)): the bytes from the
            // outer UDP header (check 0) to the inner L4 header, plus ~inner field.
            let innerField = frame.bytes.be16(at: s.csumStart + s.csumOffset)
            var lco = InternetChecksum.sum(frame.bytes, range: l4..<s.csumStart)
            lco = InternetChecksum.add(lco, UInt32(~innerField))
            branch = .lco
            field = InternetChecksum.udpMangleZero(InternetChecksum.finish(InternetChecksum.add(pseudo, lco)))
        } else if profile == .linux6 || (underlayIPv4Checksum && !v6) {
            // (4.4 `udp6_set_csum()` tests NETIF_F_IPV6_CSUM, which the model's devices — veth's
            // HW_CSUM among them — do not have: the software branch, T3.)
            branch = .pending
            field = InternetChecksum.fold(pseudo)
            s = s.with(.partial)
            s.csumStart = l4
            s.csumOffset = udpChecksumOffset
            encapsulation = false
        } else {
            branch = .software
            let sum = InternetChecksum.sum(frame.bytes, range: l4..<frame.count)
            field = InternetChecksum.udpMangleZero(InternetChecksum.finish(InternetChecksum.add(pseudo, sum)))
            s = s.with(.unnecessary)
        }
        frame.bytes.setBE16(field, at: l4 + udpChecksumOffset)
        // The outer headers are pushed into the headroom: a linear part the skb records grows.
        if let h = s.headLength { s.headLength = h + hl }
        return VxlanEncapsulation(frame: frame, skb: s, encapsulation: encapsulation, innerCompleted: innerCompleted,
                                  branch: branch, outerField: field)
    }

    /// MASQUERADE / SNAT of the outer header (`nf_nat_ipv4_manip_pkt()` → `udp_manip_pkt()`):
    /// the source address and port become `address`/`port`. Returns whether the UDP field was
    /// left alone because it was zero (6.x N1; 4.4 updates a zero field of a `PARTIAL` skb, N2),
    /// and whether the `PARTIAL` branch of `inet_proto_csum_replace4()` was used (N3: the field is
    /// taken for a pending pseudo-header sum and the port change is skipped).
    /// Over IPv6 (`nf_nat_ipv6_manip_pkt()` → the same `udp_manip_pkt()`): the 16-byte source
    /// address through `inet_proto_csum_replace16()` (same `PARTIAL` branch), no header checksum.
    @discardableResult
    public static func natOuterSource(_ frame: inout Frame, skb: SkbState, address: IPAddress, port: UInt16,
                                      profile: KernelProfile) -> (zeroKept: Bool, pseudoHeader: Bool) {
        let v6 = isIPv6(frame.bytes)
        let l4 = l4(frame.bytes)
        // The address as 32-bit words, old and new (one word over IPv4, four over IPv6).
        let addrAt = outerL3 + (v6 ? 8 : 12)
        let words = v6 ? 4 : 1
        var changes: [(old: UInt32, new: UInt32)] = []
        for w in 0..<words {
            let at = addrAt + 4 * w
            let old = frame.bytes.be32(at: at)
            let new = address.bytes.count == 4 * words ? address.bytes[(4 * w)..<(4 * w + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } : old
            frame.bytes.setBE32(new, at: at)
            changes.append((old, new))
            if !v6 {
                let ipc = frame.bytes.be16(at: outerL3 + 10)
                frame.bytes.setBE16(InternetChecksum.replace32(checksum: ipc, old: old, new: new), at: outerL3 + 10)
            }
        }
        let fieldAt = l4 + udpChecksumOffset
        let field = frame.bytes.be16(at: fieldAt)
        let partial = skb.ipSummed == .partial
        let doCsum = profile == .linux6 ? field != 0 : (field != 0 || partial)
        let oldPort = frame.bytes.be16(at: l4)
        frame.bytes.setBE16(port, at: l4)
        guard doCsum else { return (true, false) }
        var c = field
        if partial {
            // inet_proto_csum_replace4/16(pseudohdr = true) on a PARTIAL skb; the port (pseudohdr = false) is skipped.
            for (old, new) in changes { c = InternetChecksum.replacePseudo32(partialField: c, old: old, new: new) }
        } else {
            for (old, new) in changes { c = InternetChecksum.replace32(checksum: c, old: old, new: new) }
            c = InternetChecksum.replace16(checksum: c, old: oldPort, new: port)
        }
        frame.bytes.setBE16(InternetChecksum.udpMangleZero(c), at: fieldAt)
        return (false, partial)
    }

    /// `__udp4_lib_rcv()` → `udp4_csum_init()` → `udp_queue_rcv_one_skb()` ("Verify checksum
    /// before giving to encap") → `vxlan_rcv()` → `__iptunnel_pull_header()` (R1–R4).
    /// Over IPv6 (`__udp6_lib_rcv()`): `udp6_csum_init()` lets a zero field through, then the
    /// socket refuses it unless `no_check6_rx` (`udp6zerocsumrx`): `report_csum_error`,
    /// `Udp6InCsumErrors` and `Udp6InErrors` (measured on 6.18).
    public static func receive(_ frame: Frame, skb: SkbState, zeroChecksum6Allowed: Bool = false) -> VxlanReception {
        let v6 = isIPv6(frame.bytes)
        let hl = headerLength(frame.bytes)
        let field = frame.bytes.be16(at: l4(frame.bytes) + udpChecksumOffset)
        if v6 && field == 0 && !zeroChecksum6Allowed {
            var r = VxlanReception(outerCheck: .udp6ZeroRefused, inner: nil)
            r.v6 = true
            return r
        }
        var s = skb
        let check: StepEvent.ReceiveCheck
        let bytesValid: Bool = {
            guard let l = try? frame.layout() else { return false }
            return frame.l4ChecksumIsValid(l)
        }()
        let trusted = s.ipSummed == .unnecessary || s.csumValid || (s.ipSummed == .partial && s.csumStart >= 0)
        // __skb_checksum_validate_needed(): `if (skb_csum_unnecessary(skb) || (zero_okay && !check))
        // { skb->csum_valid = 1; __skb_decr_checksum_unnecessary(skb); … }` (T9).
        if field == 0 {
            check = .udpZero
            s = decrementUnnecessary(s)
            s.csumValid = true
        } else if trusted {
            check = .trusted(summed: s.ipSummed, csumValid: s.csumValid, bytesValid: bytesValid)
            s = decrementUnnecessary(s)
            s.csumValid = true
        } else if bytesValid {
            // __skb_checksum_complete(): CHECKSUM_COMPLETE over the datagram, csum_valid.
            check = .verified(valid: true)
            s = s.with(.complete)
            s.csumValid = true
        } else {
            var r = VxlanReception(outerCheck: .verified(valid: false), inner: nil)
            r.v6 = v6
            return r
        }
        // skb_pull_rcsum(): a PARTIAL whose csum_start lies in the pulled header becomes NONE.
        var inner = Frame(bytes: Array(frame.bytes[hl...]))
        // The pull leaves the rest of a recorded linear part in front of the inner frame.
        if let h = s.headLength { s.headLength = max(0, h - hl) }
        if s.ipSummed == .partial {
            if s.csumStart >= hl {
                s.csumStart -= hl
            } else {
                s = s.with(.none)
            }
        }
        // skb->csum_valid survives decapsulation (nothing in __iptunnel_pull_header() clears it):
        // an AF_PACKET socket on the vxlan device reports TP_STATUS_CSUM_VALID (measured on 6.18).
        if let l = try? inner.layout(), l.end < inner.count { inner.bytes.removeLast(inner.count - l.end) }
        var r = VxlanReception(outerCheck: check, inner: (inner, s))
        r.v6 = v6
        return r
    }

    /// `__skb_decr_checksum_unnecessary()`.
    static func decrementUnnecessary(_ s: SkbState) -> SkbState {
        guard s.ipSummed == .unnecessary else { return s }
        var t = s
        if t.csumLevel == 0 { t = t.with(.none) } else { t.csumLevel -= 1 }
        return t
    }
}

// MARK: The walk

extension Walk {
    /// The VXLAN device's transmit (after `validate_xmit_skb()` with its own features, T1):
    /// encapsulation, the outer checksum, an outer MASQUERADE, then the underlay device.
    mutating func vxlanXmit(_ p: Packet, on d: Int, _ s: SkbState, _ v: VxlanSettings) {
        let dev = net.devices[d]
        guard let ni = shared.tunnelNode(d) else { return finish(.droppedOnPath(at: name(d), reason: "the vxlan device is in no namespace")) }
        let node = topology.nodes[ni]
        guard let remote = v.remote, let local = v.local, let (uif, nextHop) = shared.route(from: ni, to: remote),
              let udev = shared.deviceOf(node: ni, iface: uif), let target = targetDevice(for: nextHop, broadcastLeg: nil) else {
            return finish(.droppedOnPath(at: name(d), reason: "\(node.name) has no route to the tunnel's remote \(v.remote.map { "\($0)" } ?? "(unset)")"))
        }
        guard p.fragmentMTU == nil else {
            return finish(.droppedOnPath(at: name(d), reason: "IP fragments through a tunnel are not modelled yet"))
        }
        // vxlan_xmit_one(): "if (unlikely(rt->dst.dev == dev)) … circular route to %pI4" —
        // the route to the remote leaves by the tunnel itself (collisions++, dropped).
        guard udev != d else {
            return finish(.droppedOnPath(at: name(d), reason: "circular route: \(node.name) reaches the tunnel's remote \(remote) through \(name(d)) itself"))
        }
        // __dev_queue_xmit(): dev_xmit_recursion() past XMIT_RECURSION_LIMIT (8) nested
        // transmits is "Dead loop on virtual device": dropped (tunnels routed into each other).
        guard tunnelNesting < 8 else {
            return finish(.droppedOnPath(at: name(d), reason: "more than 8 tunnel transmits nested (dev_xmit_recursion: dead loop on a virtual device)"))
        }
        let profile = dev.profile
        let r: VxlanEncapsulation
        do {
            r = try Vxlan.encapsulate(inner: p.frame, skb: s, settings: v, profile: profile,
                                      underlayIPv4Checksum: net.devices[udev].features.txChecksum,
                                      sourceMAC: net.devices[udev].mac, destinationMAC: shared.destinationMAC(for: target),
                                      sourcePort: Vxlan.sourcePort(inner: p.frame), ipID: outerIPID(d, s, p.layout))
        } catch {
            return finish(.droppedOnPath(at: name(d), reason: error.description))
        }
        // Step 1: the headers pushed (outer field 0), the skb as iptunnel_handle_offloads left it.
        var pushed = p
        pushed.frame = r.frame
        pushed.frame.bytes.setBE16(0, at: Vxlan.l4(r.frame.bytes) + Vxlan.udpChecksumOffset)
        pushed.carrier = .skb(r.branch == .pending || r.branch == .software ? s.with(.none) : r.skb)
        pushed.target = target
        pushed.innerOffset = Vxlan.headerLength(r.frame.bytes)
        var encap = StepEvent.VxlanEncap(device: name(d), vni: v.vni, udpSum: v.outerChecksum(on: profile), innerSummed: s.ipSummed,
                                         encapsulation: r.encapsulation, innerCompleted: r.innerCompleted, gso: s.isGSO, profile: profile)
        encap.v6 = v.overIPv6
        encap.geneve = v.geneve
        pushed = watch(pushed) { w in w.record(p, pushed, node: ni, iface: w.ifLabel(d), .transmit, .vxlanEncap(encap)) }
        // Step 2: udp_set_csum().
        var q = pushed
        q.frame.bytes.setBE16(r.outerField, at: Vxlan.l4(r.frame.bytes) + Vxlan.udpChecksumOffset)
        q.carrier = .skb(r.skb)
        let before = pushed
        q = watch(q) { w in
            w.record(before, q, node: ni, iface: w.ifLabel(d), .transmit, .outerUDPChecksum(branch: r.branch, value: r.outerField, profile: profile, v6: v.overIPv6))
        }
        if v.outerMasquerade {
            let b = q
            var f = q.frame
            let port = Vxlan.masqueradePort(q.frame.bytes.be16(at: Vxlan.l4(q.frame.bytes)))
            let (zeroKept, pseudo) = Vxlan.natOuterSource(&f, skb: r.skb, address: local, port: port, profile: profile)
            q.frame = f
            q = watch(q) { w in
                w.record(b, q, node: ni, iface: node.interfaces[uif].name, .transmit,
                         .vxlanOuterMasquerade(port: port, zeroKept: zeroKept, pseudoHeader: pseudo, v6: v.overIPv6))
            }
        }
        if r.skb.isGSO, let why = Vxlan.tunnelGSOSoftwareReason(features: net.devices[udev].features,
                                                                 encapsulationKeepsOffloads: net.devices[udev].kind.encapsulationKeepsOffloads,
                                                                 outerChecksum: v.outerChecksum(on: profile)) {
            return tunnelSegment(q, on: udev, r.skb, reason: why)
        }
        // A pending inner (skb->encapsulation) is judged by the underlay's hw_enc_features
        // (netif_skb_features()): a bridge, TAP or virtio NIC has no checksum offload there, so
        // validate_xmit_skb() → skb_csum_hwoffload_help() → skb_checksum_help() completes the inner
        // here, whatever its own features say — and an LCO outer becomes valid (measured on 6.18:
        // topologies/vxlan-bridge-underlay.yaml).
        if !r.skb.isGSO, r.encapsulation, let st = q.skb, st.ipSummed == .partial, !net.devices[udev].kind.encapsulationKeepsOffloads {
            let before = q
            q.frame.completeChecksum(start: st.csumStart, offset: st.csumOffset, end: q.frame.count, mangleZero: profile.checksumHelpMangles0)
            q.carrier = .skb(st.with(.none))  // written in place: the linear part and csum_valid stay
            let reason = "an encapsulated skb is judged by \(name(udev))'s hw_enc_features, which have no checksum offload"
            q = watch(q) { w in
                w.record(before, q, node: w.net.devices[udev].node, iface: w.ifLabel(udev), .transmit, .checksumHelp(profile: profile, device: w.name(udev), reason: reason))
            }
        }
        tunnelNesting += 1
        transmit(q, on: udev)
        tunnelNesting -= 1
    }

    /// The outer IPv4 ID of a packet tunnel `d` sends (`iptunnel_xmit()` →
    /// `__ip_select_ident(net, iph, gso_segs ?: 1)` → `ip_idents_reserve()`): one counter per
    /// destination, which hands out consecutive IDs to packets sent within one jiffy (a random
    /// jump only when the jiffy changed) and reserves a GSO skb's run (`gso_segs`), which its
    /// segments take in order (`tunnelSegment`). The model's counter starts at 0 per leg and per tunnel:
    /// verify does not compare the value, but GRO on the underlay merges only consecutive IDs
    /// (`inet_gro_flush()`; found by the random campaign of session 15: vxlan-bridge-port with
    /// vxA tx off, whose segments each encapsulated alone the kernel merged on wireB).
    mutating func outerIPID(_ d: Int, _ s: SkbState, _ inner: FrameLayout) -> UInt16 {
        var segs = 1
        // `gso_segs ?: 1`: a DODGY skb (from a TAP, virtio or a PACKET_VNET_HDR writer:
        // virtio_net_hdr_to_skb() leaves gso_segs 0) reserves one ID; its segments still take
        // the IDs after it.
        if s.isGSO, s.gsoSize > 0, !s.gsoDodgy {
            let payload = max(0, inner.end - inner.payloadOffset)
            segs = max(1, (payload + s.gsoSize - 1) / s.gsoSize)
        }
        let id = outerIDs[d] ?? 0
        outerIDs[d] = id &+ UInt16(truncatingIfNeeded: segs)
        return id
    }

    /// `__skb_udp_tunnel_segment()` (T5, 6.x): `need_csum` from the outer field (a zero field is
    /// `SKB_GSO_UDP_TUNNEL`), `offload_csum` from the underlay's checksum feature; the inner TCP
    /// super-frame is cut with the underlay's features (`hw_enc_features`: veth keeps them), and
    /// each segment's outer checksum comes from the outer field: `gso_make_checksum()` in
    /// software when the inner is still pending or the device cannot checksum, else the outer
    /// becomes the pending field.
    mutating func tunnelSegment(_ p: Packet, on d: Int, _ s: SkbState, reason: String) {
        // IPv6 underlay: udp6_ufo_fragment() → skb_udp_tunnel_segment(…, is_ipv6 = true), the same
        // rules with `offload_csum` from HW_CSUM | IPV6_CSUM; ipv6_gso_segment() then sets each
        // segment's payload length (no header checksum, no ID).
        let v6 = Vxlan.isIPv6(p.frame.bytes)
        let io = Vxlan.headerLength(p.frame.bytes)
        let ol4 = Vxlan.l4(p.frame.bytes)
        let inner = Frame(bytes: Array(p.frame.bytes[io...]))
        guard let il = try? inner.layout(), il.l4Protocol == .tcp else {
            return finish(.droppedOnPath(at: name(d), reason: "segmenting a tunnelled GSO skb other than TCP is not modelled yet"))
        }
        let dev = net.devices[d]
        let field = p.frame.bytes.be16(at: ol4 + Vxlan.udpChecksumOffset)
        let needCsum = field != 0
        // offload_csum tests skb->dev->features; the inner is cut with `features &
        // hw_enc_features` (harmonized: no checksum feature, no inner offload). 4.4 sets
        // `encap_hdr_csum` when the outer checksum is wanted: skb_segment() then computes every
        // inner checksum in software (`dont_encap`, T5).
        let offloadCsum = needCsum && dev.features.txChecksum
        // A TAP keeps the inner pending when it can checksum: measured on 6.18 (vxlan-in-vm:
        // NEEDS_CSUM at the inner TCP header after the cut), whose tun has encapsulation
        // offloads; 6.13.7's has none (notes, "A vxlan device inside a VM").
        var isTap = false
        if case .tap = dev.kind { isTap = true }
        let innerOffload = dev.kind.encapsulationKeepsOffloads || isTap
        let complete = !(dev.features.txChecksum && innerOffload) || (needCsum && dev.profile != .linux6)
        let segs = inner.tcpSegments(mss: s.gsoSize, il, complete: complete, mangleZero: false)
        // The outer pseudo-header sum of the super-frame, less its length: what every segment's
        // outer checksum starts from (`partial = csum_sub(csum_unfold(uh->check), htonl(skb->len))`).
        let superLength = UInt32(p.frame.count - ol4)
        var base = InternetChecksum.add(UInt32(field), ~superLength & 0xFFFF)
        base = InternetChecksum.add(base, 0xFFFF)
        for (i, seg) in segs.enumerated() {
            var b = Array(p.frame.bytes[0..<io]) + seg.frame.bytes
            if v6 {
                b.setBE16(UInt16(b.count - ol4), at: Vxlan.outerL3 + 4)
            } else {
                let total = b.count - Vxlan.outerL3
                b.setBE16(UInt16(total), at: Vxlan.outerL3 + 2)
                b.setBE16(UInt16(truncatingIfNeeded: Int(b.be16(at: Vxlan.outerL3 + 4)) + i), at: Vxlan.outerL3 + 4)
                b.setBE16(InternetChecksum.ipv4HeaderChecksum(Array(b[Vxlan.outerL3..<Vxlan.outerL4])), at: Vxlan.outerL3 + 10)
            }
            let udpLength = b.count - ol4
            b.setBE16(UInt16(udpLength), at: ol4 + 4)
            var state = (complete ? SkbState(ipSummed: .none) : SkbState(ipSummed: .partial, csumStart: io + il.l4Offset, csumOffset: il.l4Protocol.checksumOffset))
                .keepingChecksumMarks(of: s)
            if needCsum {
                // uh->check = ~csum_fold(csum_add(partial, htonl(len))): the segment's pseudo sum.
                let pseudo = InternetChecksum.fold(InternetChecksum.add(base, UInt32(udpLength)))
                b.setBE16(pseudo, at: ol4 + Vxlan.udpChecksumOffset)
                if !complete || !offloadCsum {
                    // gso_make_checksum(): from the outer UDP header (field = pseudo sum) to the
                    // inner L4 header, plus the complement of the inner field when it is pending.
                    let end = complete ? b.count : state.csumStart
                    var sum = InternetChecksum.sum(b, range: ol4..<end)
                    if !complete { sum = InternetChecksum.add(sum, UInt32(~b.be16(at: state.csumStart + state.csumOffset))) }
                    b.setBE16(InternetChecksum.udpMangleZero(~InternetChecksum.fold(sum)), at: ol4 + Vxlan.udpChecksumOffset)
                } else {
                    state = SkbState(ipSummed: .partial, csumStart: ol4, csumOffset: Vxlan.udpChecksumOffset)
                }
            }
            // skb_segment() with the underlay's features: without scatter-gather each segment
            // is built linear (see Walk.segmentHeadLength).
            if !dev.features.has(.scatterGather) { state.headLength = b.count }
            var q = p
            q.frame = Frame(bytes: b)
            q.carrier = .skb(state)
            q.segment = i + 1
            // skb_segment() (under tcp_gso_segment(), as in a plain cut): a sock_wfree owner
            // moves to the last segment; a tcp_wfree one is every segment's.
            if p.owner == .socket && i != segs.count - 1 { q.owner = .none }
            q.payloadOffset = p.payloadOffset + seg.payloadOffset
            let event = StepEvent.tunnelSegment(needCsum: needCsum, offloadCsum: offloadCsum, innerComplete: complete, count: segs.count, device: name(d), reason: reason,
                                                outerV6: v6, innerV6: il.ipVersion == .v6)
            let q2 = watch(q) { w in w.record(p, q, node: dev.node, iface: w.ifLabel(d), .transmit, event) }
            // Cut in a guest, each segment is its own buffer to QEMU and its own TAP write on the
            // host (virtioXmit flushes the GRO lists after each).
            transmitDriver(q2, on: d)
        }
    }

    /// The VXLAN device of namespace `ni` listening on UDP `port` (its socket's family is its
    /// `local`'s), if any.
    func vxlanDevice(node ni: Int, port: UInt16, v6: Bool) -> Int? {
        net.devices.indices.first { i in
            guard case let .vxlan(v) = net.devices[i].kind else { return false }
            return shared.tunnelNode(i) == ni && v.dstPort == port && v.overIPv6 == v6
        }
    }

    /// An outer packet for a VXLAN socket of namespace `ni`: the outer check, then the inner
    /// frame enters the namespace through the vxlan device `vx`.
    mutating func vxlanReceive(_ p: Packet, node ni: Int, device d: Int, vxlan vx: Int) {
        let s = p.skb ?? SkbState(ipSummed: .none)
        var zeroOK = false
        if case let .vxlan(v) = net.devices[vx].kind { zeroOK = v.udp6ZeroCsumRx }
        let rec = Vxlan.receive(p.frame, skb: s, zeroChecksum6Allowed: zeroOK)
        let nodeName = topology.nodes[ni].name
        guard let inner = rec.inner else {
            _ = watch(p) { w in
                w.record(p, p, node: ni, iface: w.ifLabel(d), .receive, .vxlanOuterReceive(check: rec.outerCheck, device: w.name(vx), v6: rec.v6), drop: "checksum error")
            }
            for c in rec.counters { count(nodeName, c) }
            return finish(.droppedByReceiver(counter: rec.counters[0]))
        }
        var outer = p
        outer.innerOffset = Vxlan.headerLength(p.frame.bytes)
        outer = watch(outer) { w in
            w.record(outer, outer, node: ni, iface: w.ifLabel(d), .receive, .vxlanOuterReceive(check: rec.outerCheck, device: w.name(vx), v6: rec.v6))
        }
        var q = outer
        q.frame = inner.frame
        q.carrier = .skb(inner.skb)
        q.innerOffset = nil
        // On a bridge port the inner frame is switched: its next hop is the inner destination's
        // device (the outer one was the underlay's).
        if net.devices[vx].master != nil, let il = try? inner.frame.layout() {
            q.target = targetDevice(for: IPAddress(bytes: inner.frame.destinationAddress(il)), broadcastLeg: nil)
        }
        var geneve = false
        if case let .vxlan(v) = net.devices[vx].kind { geneve = v.geneve }
        q = watch(q) { w in w.record(outer, q, node: ni, iface: w.ifLabel(vx), .receive, .vxlanDecap(summed: inner.skb.ipSummed, device: w.name(vx), geneve: geneve)) }
        // gro_cells_receive(): GRO on the tunnel device unless the skb is cloned (the model's lab
        // has no packet socket keeping a clone; verify observes with mmap rings, which do not).
        if net.devices[vx].features.has(.gro) {
            return tunnelGRO(q, node: ni, device: vx)
        }
        passUpFromTunnel(q, device: vx)
    }

    /// The inner frame leaves the tunnel device (`netif_receive_skb()` on it) for its namespace's
    /// stack, or, on a bridge port, for the bridge (`br_handle_frame()`, the port's rx_handler).
    mutating func passUpFromTunnel(_ p: Packet, device vx: Int) {
        let q = p
        // The outer check's csum_valid stays on the skb (nothing in decapsulation clears it):
        // a forwarding router's packet sockets still report it; the inner transport check
        // starts by zeroing it (localDeliver).
        if let br = net.devices[vx].master { return bridgeForward(q, bridge: br, from: vx) }
        arriveAtHost(q, device: vx)
    }
}

extension Vxlan {
    /// Why the underlay must segment an encapsulated TCP GSO skb in software
    /// (`skb_udp_tunnel_segment()`), or nil when it takes the super-frame whole.
    /// `netif_skb_features()`: the device's features, `& hw_enc_features` for an encapsulated skb,
    /// then `harmonize_features()` (no checksum offload: no GSO bit at all); `skb_gso_ok()` →
    /// `net_gso_ok()` wants every `gso_type` bit: TSO for the inner TCP, and
    /// `NETIF_F_GSO_UDP_TUNNEL_CSUM` when the outer checksum is wanted
    /// (`vxlan_build_skb()`: `udp_sum ? SKB_GSO_UDP_TUNNEL_CSUM : SKB_GSO_UDP_TUNNEL`), else
    /// `NETIF_F_GSO_UDP_TUNNEL`.
    public static func tunnelGSOSoftwareReason(features: Features.Effective, encapsulationKeepsOffloads: Bool,
                                               outerChecksum: Bool) -> String? {
        if !encapsulationKeepsOffloads { return "its hw_enc_features have no TSO" }
        if !features.txChecksum { return "no checksum offload: harmonize_features drops every GSO feature" }
        if !features.has(.tso) { return "no TSO" }
        let needed: Feature = outerChecksum ? .udpTunnelCsumSegmentation : .udpTunnelSegmentation
        if !features.has(needed) {
            return "\(needed.rawValue) is off" + (outerChecksum ? ", and the outer checksum is on (SKB_GSO_UDP_TUNNEL_CSUM)" : "")
        }
        return nil
    }

    /// The source port `--random-fully` picks, in the model: fixed per original port, so traces
    /// are reproducible (the kernel's is random; `verify` does not compare it).
    public static func masqueradePort(_ original: UInt16) -> UInt16 {
        UInt16(1024 + (UInt32(original) &* 40503) % (65535 - 1024))
    }
}

extension Topology {
    /// The vxlan devices placed in namespace `node` name one of its interfaces as their underlay:
    /// keep them in step when that interface is renamed (or deleted: nil).
    mutating func updateVxlanUnderlays(of node: String, _ f: (String) -> String?) {
        for ni in nodes.indices {
            guard case var .vxlan(v) = nodes[ni].kind, let u = v.underlay else { continue }
            let name = nodes[ni].name
            func linked(_ x: String, _ y: String) -> Bool { links.contains { ($0.a.node == x && $0.b.node == y) || ($0.b.node == x && $0.a.node == y) } }
            // Placed in `node`, or a port of a bridge placed there.
            let bridges = nodes.filter { if case .bridge = $0.kind { return linked(name, $0.name) } else { return false } }
            guard linked(name, node) || bridges.contains(where: { linked($0.name, node) }) else { continue }
            v.underlay = f(u)
            nodes[ni].kind = .vxlan(v)
        }
    }
}

extension Topology {
    /// The VXLAN tunnels: pairs of vxlan nodes whose `local`/`remote` are each other's with the
    /// same VNI and port, in node order (each pair once). Graphs draw them as links.
    public var tunnels: [(a: String, b: String, vni: UInt32)] {
        var out: [(a: String, b: String, vni: UInt32)] = []
        for (i, x) in nodes.enumerated() {
            guard case let .vxlan(vx) = x.kind, vx.local != nil else { continue }
            for y in nodes[(i + 1)...] {
                guard case let .vxlan(vy) = y.kind else { continue }
                if vy.geneve == vx.geneve && vy.vni == vx.vni && vy.dstPort == vx.dstPort && vy.local == vx.remote && vy.remote == vx.local {
                    out.append((x.name, y.name, vx.vni))
                }
            }
        }
        return out
    }
}

extension Network.DeviceKind {
    /// Whether the device's `hw_enc_features` keep its checksum, TSO and tunnel GSO offloads for
    /// an encapsulated skb (`netif_skb_features()`: `features &= dev->hw_enc_features`): veth sets
    /// `hw_enc_features = VETH_FEATURES` (a host NIC is a veth in `verify`); a bridge, TAP,
    /// virtio-net (6.13) or vxlan device sets none, so `register_netdevice()` leaves only
    /// `SG | GSO_PARTIAL`.
    public var encapsulationKeepsOffloads: Bool {
        switch self {
        case .vethEnd, .hostNIC: return true
        case .virtio, .tap, .bridge, .vxlan: return false
        }
    }
}

extension Network.Device {
    /// A VXLAN or GENEVE device.
    public var isTunnel: Bool {
        if case .vxlan = kind { return true }
        return false
    }
}
