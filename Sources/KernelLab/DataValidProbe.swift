import Wire

/// Whether the running kernel's tun reports `CHECKSUM_UNNECESSARY` as `DATA_VALID` in the
/// virtio_net_hdr it hands to the reader. This changed within 6.x (tun passing
/// `has_data_valid=false` around 6.17, a fix posted in November 2025), so `verify` measures it once
/// per run instead of assuming it.
///
/// The probe: a veth pair whose sending end has no TSO and whose receiving end has GRO on (so
/// veth takes the NAPI path and GRO validates a complete checksum → CHECKSUM_UNNECESSARY), the
/// receiving end bridged with a TAP (vnet header, TUN_F_CSUM); a correct TCP SYN sent on AF_PACKET
/// into the veth arrives at the TAP fd with flags DATA_VALID, or with 0.
public enum DataValidProbe {
    public struct Result: Sendable, Equatable {
        /// nil when the probe itself failed (then `detail` says why).
        public var reportsDataValid: Bool?
        public var detail: String
    }

    public static func run(prefix: RunPrefix, executable: String, agentArguments: [String]) -> Result {
        let b = LabBuilder(prefix: prefix, executable: executable, kind: "data-valid-probe", agentArguments: agentArguments)
        defer { b.teardown() }
        do {
            try b.namespace("probe", ipv6: false)
            try b.bridge("probe", "pbr", mac: "02:00:00:00:d0:00")
            try b.tap("probe", "ptap", vnetHeader: true, offloads: [.csum, .tso4, .tso6], mac: "02:00:00:00:d0:01", guestMAC: "52:54:00:00:d0:02")
            try b.veth("probe", "pA", macA: "02:00:00:00:d0:0a", "probe", "pB", macB: "02:00:00:00:d0:0b")
            try b.up("probe", "pA")
            try b.up("probe", "pB", master: "pbr")
            try b.up("probe", "ptap", master: "pbr")
            for f in FeatureNames.ethtool(.tso) { try b.setFeature("probe", "pA", f, on: false) }
            try b.setFeature("probe", "pB", "rx-gro", on: true)
            var pb = PacketBuilder(sourceMAC: MAC.parse("52:54:00:00:d0:01")!, destinationMAC: MAC.parse("52:54:00:00:d0:02")!,
                                   source: IPAddress("10.9.0.1")!, destination: IPAddress("10.9.0.2")!)
            pb.ipID = 0x4242
            let frame = pb.tcp(sourcePort: 40001, destinationPort: 22, seq: 1, ack: 0, flags: [.syn], options: [2, 4, 5, 0xb4], checksum: .complete)
            let a = try b.agent("probe")
            try a.call(["drain", "ptap"])
            try a.call(["send", "pA", "0", frame.bytes.hexString])
            for line in try a.call(["read", "ptap", "100", "2000", "500"]).data where line.hasPrefix("frame ") {
                guard let bytes = bytesFromHex(String(line.dropFirst(6))), bytes.count > 10 + 14,
                      FlowIdentity(Array(bytes[10...])) == FlowIdentity(frame.bytes),
                      let h = try? VirtioNetHeader(parsing: Array(bytes[0..<10])) else { continue }
                return Result(reportsDataValid: h.isDataValid, detail: "a GRO-validated SYN arrived at the TAP with flags \(LegComparison.flags(h))")
            }
            return Result(reportsDataValid: nil, detail: "the probe frame did not arrive at the TAP")
        } catch {
            return Result(reportsDataValid: nil, detail: "probe failed: \(error)")
        }
    }
}
