import Wire

/// A host's TCP option settings: the sysctls `net.ipv4.tcp_timestamps`, `tcp_sack`,
/// `tcp_window_scaling`, and an MSS clamp (`TCP_MAXSEG` on its sockets). nil means the kernel
/// profile's default (`TCPOptionSettings.defaults(_:)`).
public struct TCPOptionSettings: Sendable, Hashable {
    public var timestamps: Bool?
    public var sack: Bool?
    public var windowScaling: Bool?
    /// The largest segment this host advertises and sends (`TCP_MAXSEG`); nil: what the MTU gives.
    public var mss: Int?

    public init(timestamps: Bool? = nil, sack: Bool? = nil, windowScaling: Bool? = nil, mss: Int? = nil) {
        self.timestamps = timestamps
        self.sack = sack
        self.windowScaling = windowScaling
        self.mss = mss
    }

    /// The setting names, as the file, `--set` and the options menu spell them.
    public static let keys = ["tcp-timestamps", "sack", "window-scaling", "mss"]

    /// The range `mss` accepts: `TCP_MAXSEG` refuses below `TCP_MIN_MSS` (88) and above
    /// `MAX_TCP_WINDOW` (32767).
    public static let mssRange = 88...32767

    /// Every field nil: the profile's defaults.
    public var isDefault: Bool { self == TCPOptionSettings() }

    /// The profile's defaults, all fields set. `tcp_timestamps`, `tcp_sack` and
    /// `tcp_window_scaling` default to 1 in every profile (3.x, 4.4 and 6.x: `tcp_sk_init()` /
    /// `sysctl_tcp_*` initialisers); no `TCP_MAXSEG` (nil `mss`).
    public static func defaults(_ p: KernelProfile) -> TCPOptionSettings {
        switch p {
        case .linux3, .linux44, .linux6:
            return TCPOptionSettings(timestamps: true, sack: true, windowScaling: true, mss: nil)
        }
    }

    /// These settings with the profile's defaults filled in.
    public func resolved(_ p: KernelProfile) -> TCPOptionSettings {
        let d = Self.defaults(p)
        return TCPOptionSettings(timestamps: timestamps ?? d.timestamps, sack: sack ?? d.sack,
                                 windowScaling: windowScaling ?? d.windowScaling, mss: mss ?? d.mss)
    }
}

/// The TCP options of one connection: what each side offers in its SYN, what the SYN-ACK
/// answers, and what data segments carry. Follows `tcp_syn_options()`, `tcp_synack_options()`,
/// `tcp_established_options()` and `tcp_options_write()` (net/ipv4/tcp_output.c, same in 4.4
/// and 6.x for these options).
public struct TCPHandshake: Sendable, Hashable {
    /// The client's and the server's settings, defaults filled in.
    public var client: TCPOptionSettings
    public var server: TCPOptionSettings
    public var ipVersion: IPVersion
    /// The MTU of each side's route to the other (its egress device's `mtu`).
    public var clientMTU: Int
    public var serverMTU: Int

    /// The window scale offered: `tcp_select_initial_window()` shifts the largest receive buffer
    /// (`tcp_rmem[2]`) below 64 KiB: 7 for 4 MiB (4.4) and 6 MiB (6.x before the 32 MiB default;
    /// this machine's 6.18 with `tcp_rmem[2]` = 32 MiB offers 10). The value changes no length or
    /// checksum rule, so every profile keeps 7, as every existing trace has it.
    public static let windowScale: UInt8 = 7
    /// The timestamp values the simulation writes (fixed, so traces are deterministic; the
    /// SYN-ACK's TSecr stays 0 as in every existing golden trace).
    static let synTSval: UInt32 = 0x0000_1000
    static let dataTSval: UInt32 = 0x0000_1001
    static let dataTSecr: UInt32 = 0x0000_2000

    public init(client: TCPOptionSettings, server: TCPOptionSettings, ipVersion: IPVersion,
                clientMTU: Int = MTURule.defaultMTU, serverMTU: Int = MTURule.defaultMTU) {
        self.client = client
        self.server = server
        self.ipVersion = ipVersion
        self.clientMTU = clientMTU
        self.serverMTU = serverMTU
    }

    /// MSS from a side's route MTU: `dst_metric_advmss()` — MTU minus the IP and TCP headers.
    public func mtuMSS(clientSide: Bool) -> Int { MTURule.mss(mtu: clientSide ? clientMTU : serverMTU, ipVersion) }

    /// What a side advertises in its SYN or SYN-ACK (`tcp_advertise_mss()`: its route's advmss,
    /// clamped by `TCP_MAXSEG`).
    func advertisedMSS(clientSide: Bool) -> Int {
        let m = mtuMSS(clientSide: clientSide)
        return min(m, (clientSide ? client : server).mss ?? m)
    }

    /// Both sides agreed to timestamps: data segments carry them (`tp->rx_opt.tstamp_ok`).
    public var timestampsAgreed: Bool { client.timestamps == true && server.timestamps == true }
    public var sackAgreed: Bool { client.sack == true && server.sack == true }
    public var windowScalingAgreed: Bool { client.windowScaling == true && server.windowScaling == true }

    /// The client's SYN: everything it offers.
    public var synOptions: [UInt8] {
        Self.write(mss: advertisedMSS(clientSide: true), timestamps: client.timestamps == true ? (Self.synTSval, 0) : nil,
                   sack: client.sack == true, windowScale: client.windowScaling == true ? Self.windowScale : nil)
    }

    /// The server's SYN-ACK: its MSS, and of the rest only what both offered.
    public var synAckOptions: [UInt8] {
        Self.write(mss: advertisedMSS(clientSide: false), timestamps: timestampsAgreed ? (Self.synTSval, 0) : nil,
                   sack: sackAgreed, windowScale: windowScalingAgreed ? Self.windowScale : nil)
    }

    /// A data segment's options: the timestamp when agreed (no SACK blocks: nothing was lost).
    public var dataOptions: [UInt8] {
        Self.write(mss: nil, timestamps: timestampsAgreed ? (Self.dataTSval, Self.dataTSecr) : nil, sack: false, windowScale: nil)
    }

    /// The payload per segment the sender (`clientSends` or the server) cuts:
    /// `tcp_mtu_to_mss()` of its own route MTU, clamped to the peer's advertised MSS and its own
    /// `TCP_MAXSEG`, then less the options every data segment carries (`tcp_header_len`). A
    /// smaller MTU between the two (a router's other link) is not seen: path-MTU discovery is
    /// not modelled.
    public func segmentSize(clientSends: Bool) -> Int {
        let me = clientSends ? client : server
        let own = mtuMSS(clientSide: clientSends)
        return min(own, me.mss ?? own, advertisedMSS(clientSide: !clientSends)) - dataOptions.count
    }

    /// `tcp_options_write()`: MSS; SACK_PERM folded in front of the timestamp when both are
    /// sent (else NOP NOP before the timestamp); a lone SACK_PERM as NOP NOP SACK_PERM; window
    /// scale as NOP WSCALE.
    static func write(mss: Int?, timestamps: (UInt32, UInt32)?, sack: Bool, windowScale: UInt8?) -> [UInt8] {
        var o: [UInt8] = []
        if let mss { o += [2, 4, UInt8(mss >> 8), UInt8(mss & 0xff)] }
        if let (val, ecr) = timestamps {
            o += sack ? [4, 2, 8, 10] : [1, 1, 8, 10]
            o += be32(val) + be32(ecr)
        } else if sack {
            o += [1, 1, 4, 2]
        }
        if let ws = windowScale { o += [1, 3, 3, ws] }
        return o
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
}
