#if canImport(Glibc)
import Glibc
#endif
import CKernelLab

/// `TUNSETOFFLOAD` flags, named as in include/uapi/linux/if_tun.h.
public struct TunOffloads: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let csum = TunOffloads(rawValue: UInt32(CKL_TUN_F_CSUM))
    public static let tso4 = TunOffloads(rawValue: UInt32(CKL_TUN_F_TSO4))
    public static let tso6 = TunOffloads(rawValue: UInt32(CKL_TUN_F_TSO6))

    /// What QEMU sets for a guest that negotiated GUEST_CSUM, GUEST_TSO4 and GUEST_TSO6.
    public static let qemuGuestCsumTSO: TunOffloads = [.csum, .tso4, .tso6]

    public var names: [String] {
        var n: [String] = []
        if contains(.csum) { n.append("TUN_F_CSUM") }
        if contains(.tso4) { n.append("TUN_F_TSO4") }
        if contains(.tso6) { n.append("TUN_F_TSO6") }
        return n
    }
}

/// A TAP file descriptor (the "VM" side of a TAP device). The device exists while the fd is open
/// and lives in the namespace of the process that opened it.
public struct Tap: Sendable {
    public let name: String
    public let fd: Int32
    public let vnetHeader: Bool
    public let vnetHeaderSize: Int

    public static func open(name: String, vnetHeader: Bool, vnetHeaderSize: Int = 10, offloads: TunOffloads) throws(LabError) -> Tap {
        let fd = ckl_tap_open(name, vnetHeader ? 1 : 0)
        guard fd >= 0 else { throw .system("TUNSETIFF \(name)", errno: -fd) }
        if vnetHeader {
            let r = ckl_tap_set_vnet_hdr_size(fd, Int32(vnetHeaderSize))
            guard r == 0 else { _ = Glibc.close(fd); throw .system("TUNSETVNETHDRSZ \(name)", errno: -r) }
        }
        let r = ckl_tap_set_offload(fd, offloads.rawValue)
        guard r == 0 else { _ = Glibc.close(fd); throw .system("TUNSETOFFLOAD \(name)", errno: -r) }
        return Tap(name: name, fd: fd, vnetHeader: vnetHeader, vnetHeaderSize: vnetHeader ? vnetHeaderSize : 0)
    }

    public func setOffloads(_ o: TunOffloads) throws(LabError) {
        let r = ckl_tap_set_offload(fd, o.rawValue)
        guard r == 0 else { throw .system("TUNSETOFFLOAD \(name)", errno: -r) }
    }

    /// Write one frame (virtio_net_hdr first if the TAP has one). Returns bytes written.
    public func write(_ bytes: [UInt8]) throws(LabError) -> Int {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw .system("write \(name)", errno: errno) }
        return n
    }

    /// Read one frame, waiting up to `timeoutMs`; nil on timeout.
    public func read(timeoutMs: Int32) throws(LabError) -> [UInt8]? {
        let w = ckl_wait_readable(fd, timeoutMs)
        guard w >= 0 else { throw .system("poll \(name)", errno: -w) }
        if w == 0 { return nil }
        var buf = [UInt8](repeating: 0, count: 65536 + 64)
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw .system("read \(name)", errno: errno) }
        return Array(buf[0..<n])
    }

    public func close() { _ = Glibc.close(fd) }
}

/// One frame read from an AF_PACKET socket, with the PACKET_AUXDATA status.
public struct PacketReading: Sendable, Equatable {
    public var bytes: [UInt8]
    public var packetType: Int32
    public var tpStatus: UInt32

    public init(bytes: [UInt8], packetType: Int32, tpStatus: UInt32) {
        self.bytes = bytes
        self.packetType = packetType
        self.tpStatus = tpStatus
    }

    public var checksumNotReady: Bool { tpStatus & UInt32(CKL_TP_STATUS_CSUMNOTREADY) != 0 }
    public var checksumValid: Bool { tpStatus & UInt32(CKL_TP_STATUS_CSUM_VALID) != 0 }
    public var isOutgoing: Bool { packetType == CKL_PACKET_OUTGOING }
}

/// An AF_PACKET socket bound to one interface (ETH_P_ALL, PACKET_AUXDATA, optional PACKET_VNET_HDR).
public struct PacketSocket: Sendable {
    public let interface: String
    public let fd: Int32
    public let vnetHeader: Bool

    public static func open(interface: String, vnetHeader: Bool) throws(LabError) -> PacketSocket {
        let fd = ckl_packet_open(interface, vnetHeader ? 1 : 0)
        guard fd >= 0 else { throw .system("AF_PACKET on \(interface)", errno: -fd) }
        return PacketSocket(interface: interface, fd: fd, vnetHeader: vnetHeader)
    }

    public func receive(timeoutMs: Int32) throws(LabError) -> PacketReading? {
        var buf = [UInt8](repeating: 0, count: 65536 + 64)
        var type: Int32 = 0
        var status: UInt32 = 0
        let n = buf.withUnsafeMutableBytes { ckl_packet_recv(fd, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32($0.count), timeoutMs, &type, &status) }
        guard n >= 0 else { throw .system("recvmsg \(interface)", errno: -n) }
        if n == 0 { return nil }
        return PacketReading(bytes: Array(buf[0..<Int(n)]), packetType: type, tpStatus: status)
    }

    /// Send one frame (virtio_net_hdr first if the socket has PACKET_VNET_HDR).
    public func send(_ bytes: [UInt8]) throws(LabError) -> Int {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw .system("send on \(interface)", errno: errno) }
        return n
    }

    public func close() { _ = Glibc.close(fd) }
}

/// An AF_PACKET socket with a TPACKET_V2 receive ring on one interface: what verify observes
/// with. `tpacket_rcv()` copies the frame into the ring and drops its reference at once, so the
/// observed skb is not left `skb_cloned()` — a plain socket (`packet_rcv()`) queues a clone, and a
/// tunnel device then skips GRO (`gro_cells_receive()`), changing what is observed.
public final class PacketRing: @unchecked Sendable {
    public let interface: String
    public let fd: Int32
    private let map: UnsafeMutableRawPointer
    private var next: UInt32 = 0
    /// 128 KiB slots hold a 64 KiB GRO super-frame with the ring's headers.
    public static let frameSize: UInt32 = 1 << 17
    public static let frameCount: UInt32 = 64

    private init(interface: String, fd: Int32, map: UnsafeMutableRawPointer) {
        self.interface = interface
        self.fd = fd
        self.map = map
    }

    public static func open(interface: String) throws(LabError) -> PacketRing {
        var m: UnsafeMutableRawPointer?
        let fd = ckl_ring_open(interface, frameSize, frameCount, &m)
        guard fd >= 0, let m else { throw .system("PACKET_RX_RING on \(interface)", errno: fd < 0 ? -fd : EINVAL) }
        return PacketRing(interface: interface, fd: fd, map: m)
    }

    public func receive(timeoutMs: Int32) throws(LabError) -> PacketReading? {
        var buf = [UInt8](repeating: 0, count: Int(Self.frameSize))
        var type: Int32 = 0
        var status: UInt32 = 0
        let n = buf.withUnsafeMutableBytes {
            ckl_ring_recv(fd, map, Self.frameSize, Self.frameCount, &next, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32($0.count),
                          timeoutMs, &type, &status)
        }
        guard n >= 0 else { throw .system("PACKET_RX_RING \(interface)", errno: -n) }
        if n == 0 { return nil }
        return PacketReading(bytes: Array(buf[0..<Int(n)]), packetType: type, tpStatus: status)
    }

    deinit { ckl_ring_close(fd, map, Self.frameSize, Self.frameCount) }
}

/// One ethtool feature of a device as `ETHTOOL_GFEATURES` reports it.
public struct EthtoolFeature: Sendable, Equatable, Codable {
    public var name: String
    public var available: Bool
    public var requested: Bool
    public var active: Bool
}

/// ethtool features by name through SIOCETHTOOL (no `ethtool` binary needed).
public enum Ethtool {
    public static func features(_ interface: String) throws(LabError) -> [EthtoolFeature] {
        var buf = [ckl_feature](repeating: ckl_feature(), count: 128)
        let n = ckl_ethtool_features(interface, &buf, Int32(buf.count))
        guard n >= 0 else { throw .system("ETHTOOL_GFEATURES \(interface)", errno: -n) }
        return buf.prefix(Int(min(n, 128))).map { f in
            let name = withUnsafeBytes(of: f.name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            return EthtoolFeature(name: name, available: f.available != 0, requested: f.requested != 0, active: f.active != 0)
        }
    }

    /// ETHTOOL_SFEATURES for one feature; returns the ioctl's result bits (0 = applied as asked).
    @discardableResult
    public static func set(_ interface: String, feature: String, on: Bool) throws(LabError) -> Int32 {
        let r = ckl_ethtool_set_feature(interface, feature, on ? 1 : 0)
        guard r >= 0 else { throw .system("ETHTOOL_SFEATURES \(interface) \(feature)", errno: -r) }
        return r
    }

    public static func mac(_ interface: String) throws(LabError) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: 6)
        let r = ckl_get_mac(interface, &mac)
        guard r == 0 else { throw .system("SIOCGIFHWADDR \(interface)", errno: -r) }
        return mac
    }
}
