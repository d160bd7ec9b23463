#if canImport(Glibc)
import Glibc
#endif
import CKernelLab
import Wire

/// The helper process that stands in for the VMs and the userspace router inside one network
/// namespace. It is started by `ip netns exec NS <executable> agent`, so the namespace is entered
/// before the process has any thread, and it speaks a line protocol on stdin/stdout: one command
/// per line, data lines, then `ok ...` or `err ...`. It exits when stdin closes (its parent ended),
/// which closes its TAPs and so deletes them.
///
/// Commands (bytes as lower-case hex):
///   sysctl KEY VALUE                         write /proc/sys/KEY (dotted or slashed)
///   tap NAME VNET(0|1) OFFLOADS HDRSZ         open a TAP (TUNSETIFF, TUNSETVNETHDRSZ, TUNSETOFFLOAD)
///   features IF                               data: `feature NAME AVAILABLE REQUESTED ACTIVE`
///   set-feature IF NAME 0|1                   ETHTOOL_SFEATURES; ok RESULT
///   mac IF                                    ok aa:bb:cc:dd:ee:ff
///   write TAP HEX                             ok BYTES | err ...
///   drain TAP                                 ok COUNT
///   read TAP IDLE_MS MAX_MS                   data: `frame HEX` until IDLE_MS pass without one
///   observe IF VNET(0|1)                      open an AF_PACKET observer: a TPACKET_V2 ring (no skb clone)
///                                             with VNET 0, a plain socket with PACKET_AUXDATA and PACKET_VNET_HDR with 1
///   observed IF IDLE_MS                       data: `packet PKTTYPE TPSTATUS HEX`
///   forward IN OUT VNET(0|1) NEXTHOP_MAC      start relaying IN → OUT in this process
///   forwarded                                 data: `fwd PKTTYPE TPSTATUS HEX RESULT`
///   relay IN_TAP OUT_TAP IN_MAC OUT_MAC NEXTHOP_MAC   start a router-VM relay between two TAPs
///   relayed                                   data: `relay HEX RESULT` (HEX with virtio_net_hdr)
///   send IF VNET(0|1) HEX                     write one frame to an AF_PACKET socket on IF; ok BYTES
///   urouter ID l3|l2 drop|keep|guest          create a `UserspaceRouter`
///   uport ID NAME tap|packet VNET(0|1) MAC    add a port (an open TAP, or an AF_PACKET socket on NAME)
///   uroute ID ADDRESS PORT NEXTHOP_MAC        route ADDRESS out of PORT to NEXTHOP_MAC
///   urouted                                   data: `urouted ID RECORD` for every frame handled
///   udp-send SRC SPORT DST DPORT HEX          one datagram through this namespace's UDP stack; ok BYTES
///   link-state IF                             ok BRPORT_STATE OPERSTATE (from this namespace's /sys; -1 if not a bridge port)
///   persist                                   TUNSETPERSIST every TAP (they outlive this helper)
///   quit
/// `read` and `observed` take an optional last argument FIRST_MS: how long to wait for the first
/// frame (default: IDLE_MS).
/// Protocol words are split on spaces, so an empty byte string (a UDP datagram with no
/// payload) travels as `-`.
func agentHex(_ bytes: [UInt8]) -> String { bytes.isEmpty ? "-" : bytes.hexString }

/// The inverse of `agentHex`.
func bytesFromAgentHex(_ word: String) -> [UInt8]? { word == "-" ? [] : bytesFromHex(word) }

public struct AgentServer {
    private var taps: [String: Tap] = [:]
    private var observers: [String: PacketSocket] = [:]
    private var rings: [String: PacketRing] = [:]
    private var forwarders: [Forwarder] = []
    private var relays: [TapRelay] = []
    private var routers: [String: UserspaceRouter] = [:]
    private var routerOrder: [String] = []
    private var senders: [String: PacketSocket] = [:]

    public init() {}

    public mutating func run() -> Int32 {
        _ = ckl_die_with_parent()
        signal(SIGPIPE, SIG_IGN)
        var reader = LineReader(fd: 0)
        guard writeAll(1, "ready\n") else { return 1 }
        while true {
            if !reader.hasBufferedLine {
                var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0)]
                for f in forwarders { fds.append(pollfd(fd: f.input.fd, events: Int16(POLLIN), revents: 0)) }
                for r in relays { fds.append(pollfd(fd: r.input.fd, events: Int16(POLLIN), revents: 0)) }
                let routerBase = fds.count
                var routerPorts: [(String, Int)] = []
                for id in routerOrder {
                    for (i, fd) in (routers[id]?.fds ?? []).enumerated() {
                        fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                        routerPorts.append((id, i))
                    }
                }
                if poll(&fds, nfds_t(fds.count), -1) < 0 && errno != EINTR { return 1 }
                for i in forwarders.indices where fds[i + 1].revents != 0 { forwarders[i].pump() }
                for i in relays.indices where fds[forwarders.count + i + 1].revents != 0 { relays[i].pump() }
                for (k, (id, port)) in routerPorts.enumerated() where fds[routerBase + k].revents != 0 { routers[id]?.pump(port: port) }
                if fds[0].revents == 0 { continue }
            }
            guard let line = reader.readLine() else { break }
            let words = line.split(separator: " ").map(String.init)
            if words.first == "quit" { _ = writeAll(1, "ok\n"); break }
            let reply: String
            do {
                reply = try handle(words)
            } catch {
                reply = "err \(error.description)\n"
            }
            guard writeAll(1, reply) else { break }
        }
        for t in taps.values { t.close() }
        return 0
    }

    /// The first line of a small sysfs file, or nil.
    private static func sysfs(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 64) }
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n], as: UTF8.self).split(whereSeparator: \.isWhitespace).first.map(String.init)
    }

    private mutating func handle(_ w: [String]) throws(LabError) -> String {
        func arg(_ i: Int) throws(LabError) -> String {
            guard i < w.count else { throw .agent("missing argument \(i) for \(w.first ?? "")") }
            return w[i]
        }
        func int(_ i: Int) throws(LabError) -> Int32 {
            guard let v = Int32(try arg(i)) else { throw .agent("argument \(i) of \(w[0]) is not a number") }
            return v
        }
        switch w.first ?? "" {
        case "sysctl":
            let key = try arg(1).map { $0 == "." ? "/" : $0 }
            let path = "/proc/sys/" + String(key)
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .system("open \(path)", errno: errno) }
            defer { close(fd) }
            guard writeAll(fd, try arg(2) + "\n") else { throw .system("write \(path)", errno: errno) }
            return "ok\n"
        case "tap":
            let name = try arg(1)
            let t = try Tap.open(name: name, vnetHeader: try int(2) != 0, vnetHeaderSize: Int(try int(4)), offloads: TunOffloads(rawValue: UInt32(try int(3))))
            taps[name] = t
            return "ok \(ckl_tap_get_flags(t.fd))\n"
        case "features":
            var out = ""
            for f in try Ethtool.features(try arg(1)) {
                out += "feature \(f.name) \(f.available ? 1 : 0) \(f.requested ? 1 : 0) \(f.active ? 1 : 0)\n"
            }
            return out + "ok\n"
        case "set-feature":
            let r = try Ethtool.set(try arg(1), feature: try arg(2), on: try int(3) != 0)
            return "ok \(r)\n"
        case "link-state":
            let dev = try arg(1)
            let state = Self.sysfs("/sys/class/net/\(dev)/brport/state") ?? "-1"
            let oper = Self.sysfs("/sys/class/net/\(dev)/operstate") ?? "missing"
            return "ok \(state) \(oper)\n"
        case "mac":
            return "ok " + MAC.format(try Ethtool.mac(try arg(1))) + "\n"
        case "write":
            let t = try tap(try arg(1))
            guard let bytes = bytesFromAgentHex(try arg(2)) else { throw .agent("bad hex") }
            return "ok \(try t.write(bytes))\n"
        case "drain":
            let t = try tap(try arg(1))
            var n = 0
            while try t.read(timeoutMs: 0) != nil { n += 1 }
            return "ok \(n)\n"
        case "read":
            let t = try tap(try arg(1))
            let idle = try int(2), maxMs = try int(3)
            var wait = w.count > 4 ? try int(4) : idle
            var out = ""
            let start = Self.nowMs()
            while Self.nowMs() - start < Int64(maxMs) {
                guard let f = try t.read(timeoutMs: wait) else { break }
                wait = idle
                out += "frame " + f.hexString + "\n"
            }
            return out + "ok\n"
        case "observe":
            if try int(2) != 0 {
                observers[try arg(1)] = try PacketSocket.open(interface: try arg(1), vnetHeader: true)
            } else {
                rings[try arg(1)] = try PacketRing.open(interface: try arg(1))
            }
            return "ok\n"
        case "observed":
            var out = ""
            let idle = try int(2)
            var wait = w.count > 3 ? try int(3) : idle
            if let r = rings[try arg(1)] {
                while let p = try r.receive(timeoutMs: wait) {
                    wait = idle
                    out += "packet \(p.packetType) \(p.tpStatus) \(p.bytes.hexString)\n"
                }
                return out + "ok\n"
            }
            guard let s = observers[try arg(1)] else { throw .agent("no observer on \(w[1])") }
            while let r = try s.receive(timeoutMs: wait) {
                wait = idle
                out += "packet \(r.packetType) \(r.tpStatus) \(r.bytes.hexString)\n"
            }
            return out + "ok\n"
        case "forward":
            let inName = try arg(1), outName = try arg(2)
            let vnet = try int(3) != 0
            guard let next = MAC.parse(try arg(4)) else { throw .agent("bad MAC \(w[4])") }
            let input = try PacketSocket.open(interface: inName, vnetHeader: vnet)
            let output = try PacketSocket.open(interface: outName, vnetHeader: vnet)
            forwarders.append(Forwarder(input: input, output: output, inputMAC: try Ethtool.mac(inName),
                                        outputMAC: try Ethtool.mac(outName), nextHopMAC: next))
            return "ok\n"
        case "forwarded":
            var out = ""
            for i in forwarders.indices {
                forwarders[i].pump()
                for r in forwarders[i].records {
                    out += "fwd \(r.reading.packetType) \(r.reading.tpStatus) \(r.reading.bytes.hexString) \(r.sentResult)\n"
                }
            }
            return out + "ok\n"
        case "relay":
            guard let inMAC = MAC.parse(try arg(3)), let outMAC = MAC.parse(try arg(4)), let next = MAC.parse(try arg(5)) else {
                throw .agent("bad MAC in relay")
            }
            relays.append(TapRelay(input: try tap(try arg(1)), output: try tap(try arg(2)), inputMAC: inMAC, outputMAC: outMAC, nextHopMAC: next))
            return "ok\n"
        case "relayed":
            var out = ""
            for i in relays.indices {
                relays[i].pump()
                for r in relays[i].records { out += "relay \(r.bytes.hexString) \(r.sentResult)\n" }
            }
            return out + "ok\n"
        case "udp-send":
            guard let payload = bytesFromAgentHex(try arg(5)) else { throw .agent("bad hex") }
            let src = try arg(1), sport = try int(2), dst = try arg(3), dport = try int(4)
            let n = payload.withUnsafeBufferPointer { p in ckl_udp_send(src, sport, dst, dport, p.baseAddress, Int32(p.count)) }
            guard n >= 0 else { throw .system("sendto \(w[3]):\(w[4])", errno: -n) }
            return "ok \(n)\n"
        case "persist":
            for t in taps.values {
                let r = ckl_tap_set_persist(t.fd, 1)
                guard r == 0 else { throw .system("TUNSETPERSIST \(t.name)", errno: -r) }
            }
            return "ok\n"
        case "send":
            let name = try arg(1), vnet = try int(2) != 0
            let key = "\(name)/\(vnet)"
            let sock: PacketSocket
            if let s = senders[key] {
                sock = s
            } else {
                sock = try PacketSocket.open(interface: name, vnetHeader: vnet)
                senders[key] = sock
            }
            guard let bytes = bytesFromAgentHex(try arg(3)) else { throw .agent("bad hex") }
            return "ok \(try sock.send(bytes))\n"
        case "urouter":
            guard let mode = UserspaceRouter.Mode(rawValue: try arg(2)), let header = UserspaceRouter.HeaderMode(rawValue: try arg(3)) else {
                throw .agent("bad router mode")
            }
            let id = try arg(1)
            routers[id] = UserspaceRouter(mode: mode, header: header)
            routerOrder.append(id)
            return "ok\n"
        case "uport":
            let id = try arg(1), name = try arg(2)
            guard var r = routers[id], let mac = MAC.parse(try arg(5)) else { throw .agent("no router \(w[1]) or bad MAC") }
            let port: UserspaceRouter.Port
            if try arg(3) == "tap" {
                port = .tap(try tap(name))
            } else {
                port = .packet(try PacketSocket.open(interface: name, vnetHeader: try int(4) != 0))
            }
            r.add(port: name, port, mac: mac)
            routers[id] = r
            return "ok\n"
        case "uroute":
            let id = try arg(1)
            guard var r = routers[id], let a = IPAddress(try arg(2)), let mac = MAC.parse(try arg(4)) else { throw .agent("bad route") }
            guard r.route(a, port: try arg(3), nextHopMAC: mac) else { throw .agent("router \(id) has no port \(w[3])") }
            routers[id] = r
            return "ok\n"
        case "urouted":
            var out = ""
            for id in routerOrder {
                guard var r = routers[id] else { continue }
                for i in r.ports.indices { r.pump(port: i) }
                routers[id] = r
                for rec in r.records { out += "urouted \(id) \(rec)\n" }
            }
            return out + "ok\n"
        default:
            throw .agent("unknown command \(w.first ?? "(empty)")")
        }
    }

    private func tap(_ name: String) throws(LabError) -> Tap {
        guard let t = taps[name] else { throw .agent("no TAP \(name)") }
        return t
    }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// MAC address text form `aa:bb:cc:dd:ee:ff`.
public enum MAC {
    public static func format(_ b: [UInt8]) -> String {
        b.map { hex2($0) }.joined(separator: ":")
    }

    public static func parse(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ":")
        guard parts.count == 6 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard p.count == 2, let v = UInt8(p, radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }

    private static func hex2(_ v: UInt8) -> String {
        let d = Array("0123456789abcdef")
        return String([d[Int(v >> 4)], d[Int(v & 0xF)]])
    }
}
