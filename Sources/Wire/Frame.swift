import Checksum

/// An Ethernet frame: the bytes are the truth. Field accessors take a `FrameLayout` obtained by
/// parsing the same bytes; checksum validity is always computed from the bytes.
public struct Frame: Sendable, Equatable, Hashable {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var count: Int { bytes.count }

    public func layout() throws(WireError) -> FrameLayout {
        try FrameLayout.parse(bytes)
    }

    // MARK: Ethernet

    public var destinationMAC: [UInt8] { Array(bytes[0..<6]) }
    public var sourceMAC: [UInt8] { Array(bytes[6..<12]) }

    public mutating func setMACs(source: [UInt8], destination: [UInt8]) {
        bytes.replaceSubrange(0..<6, with: destination)
        bytes.replaceSubrange(6..<12, with: source)
    }

    /// The destination MAC is a unicast address (the group bit is clear).
    public var destinationIsUnicast: Bool { bytes.count >= 6 && bytes[0] & 1 == 0 }

    // MARK: IP

    /// TTL (IPv4) or hop limit (IPv6).
    public func ttl(_ l: FrameLayout) -> UInt8 {
        l.ipVersion == .v4 ? bytes[l.l3Offset + IPv4Field.ttl] : bytes[l.l3Offset + IPv6Field.hopLimit]
    }

    /// A router's TTL (hop limit) − 1 that recomputes the whole IPv4 header checksum, as a
    /// userspace program does (the kernel's `ip_decrease_ttl()` is `decrementTTL(_:)`).
    public mutating func decrementTTLRecomputingHeader(_ l: FrameLayout) {
        switch l.ipVersion {
        case .v4:
            bytes[l.l3Offset + IPv4Field.ttl] &-= 1
            fillIPv4Checksum(l)
        case .v6:
            bytes[l.l3Offset + IPv6Field.hopLimit] &-= 1
        }
    }

    /// IPv4: the Don't Fragment bit is set. (IPv6 routers never fragment: always true.)
    public func mayNotFragment(_ l: FrameLayout) -> Bool {
        l.ipVersion == .v6 || bytes[l.l3Offset + IPv4Field.flagsFragment] & IPv4Field.dontFragment != 0
    }

    public func ipv4Checksum(_ l: FrameLayout) -> UInt16 {
        bytes.be16(at: l.l3Offset + IPv4Field.checksum)
    }

    public func ipv4HeaderLength(_ l: FrameLayout) -> Int { l.l4Offset - l.l3Offset }

    /// The correct IPv4 header checksum for the current header bytes.
    public func correctIPv4Checksum(_ l: FrameLayout) -> UInt16 {
        InternetChecksum.ipv4HeaderChecksum(Array(bytes[l.l3Offset..<l.l4Offset]))
    }

    public mutating func fillIPv4Checksum(_ l: FrameLayout) {
        fillIPv4Checksum(l3Offset: l.l3Offset, headerLength: l.l4Offset - l.l3Offset)
    }

    /// The one place an IPv4 header checksum is written: over the header with the field taken
    /// as zero.
    mutating func fillIPv4Checksum(l3Offset: Int, headerLength: Int) {
        let header = Array(bytes[l3Offset..<(l3Offset + headerLength)])
        bytes.setBE16(InternetChecksum.ipv4HeaderChecksum(header), at: l3Offset + IPv4Field.checksum)
    }

    public func ipv4Identification(_ l: FrameLayout) -> UInt16 { bytes.be16(at: l.l3Offset + IPv4Field.identification) }

    public func ipv4Source(_ l: FrameLayout) -> UInt32 { bytes.be32(at: l.l3Offset + IPv4Field.source) }
    public func ipv4Destination(_ l: FrameLayout) -> UInt32 { bytes.be32(at: l.l3Offset + IPv4Field.destination) }

    /// Source address bytes (4 or 16).
    public func sourceAddress(_ l: FrameLayout) -> [UInt8] { Array(bytes[sourceAddressRange(l)]) }

    public func destinationAddress(_ l: FrameLayout) -> [UInt8] { Array(bytes[destinationAddressRange(l)]) }

    /// Where the IP source address sits in `bytes`.
    public func sourceAddressRange(_ l: FrameLayout) -> Range<Int> {
        l.ipVersion == .v4 ? l.l3Offset + 12..<l.l3Offset + 16 : l.l3Offset + 8..<l.l3Offset + 24
    }

    /// Where the IP destination address sits in `bytes`.
    public func destinationAddressRange(_ l: FrameLayout) -> Range<Int> {
        l.ipVersion == .v4 ? l.l3Offset + 16..<l.l3Offset + 20 : l.l3Offset + 24..<l.l3Offset + 40
    }

    // MARK: L4

    public func sourcePort(_ l: FrameLayout) -> UInt16 { bytes.be16(at: l.l4Offset) }
    public func destinationPort(_ l: FrameLayout) -> UInt16 { bytes.be16(at: l.l4Offset + 2) }

    /// The TCP header's flags (empty for another protocol).
    public func tcpFlags(_ l: FrameLayout) -> PacketBuilder.TCPFlags {
        l.l4Protocol == .tcp ? PacketBuilder.TCPFlags(rawValue: bytes[l.l4Offset + TCPField.flags]) : []
    }

    /// The ICMP / ICMPv6 message type (nil for another protocol).
    public func icmpType(_ l: FrameLayout) -> UInt8? {
        l.l4Protocol == .icmp || l.l4Protocol == .icmpv6 ? bytes[l.l4Offset + ICMPField.type] : nil
    }

    /// The L4 checksum field as it is in the bytes now.
    public func l4Checksum(_ l: FrameLayout) -> UInt16 {
        bytes.be16(at: l.checksumFieldOffset)
    }

    public mutating func setL4Checksum(_ v: UInt16, _ l: FrameLayout) {
        bytes.setBE16(v, at: l.checksumFieldOffset)
    }

    /// The pseudo-header sum (unfolded) for this frame's L4 segment; 0 for ICMPv4, which has none.
    public func pseudoHeaderSum(_ l: FrameLayout) -> UInt32 {
        Self.pseudoHeaderSum(bytes: bytes, layout: l, l4Length: UInt32(l.l4Length))
    }

    static func pseudoHeaderSum(bytes: [UInt8], layout l: FrameLayout, l4Length: UInt32) -> UInt32 {
        switch (l.ipVersion, l.l4Protocol) {
        case (_, .icmp):
            return 0
        case (.v4, _):
            return InternetChecksum.pseudoHeaderIPv4(source: bytes.be32(at: l.l3Offset + 12), destination: bytes.be32(at: l.l3Offset + 16),
                                                     protocol: l.l4Protocol.rawValue, length: l4Length)
        case (.v6, _):
            return InternetChecksum.pseudoHeaderIPv6(source: Array(bytes[l.l3Offset + 8..<l.l3Offset + 24]),
                                                     destination: Array(bytes[l.l3Offset + 24..<l.l3Offset + 40]),
                                                     nextHeader: l.l4Protocol.rawValue, length: l4Length)
        }
    }

    /// The value a `CHECKSUM_PARTIAL` sender leaves in the field: the folded pseudo-header sum,
    /// not complemented (`~tcp_v4_check(len, saddr, daddr, 0)`).
    public func partialChecksumValue(_ l: FrameLayout) -> UInt16 {
        InternetChecksum.fold(pseudoHeaderSum(l))
    }

    /// The correct, complete L4 checksum for the current bytes (field taken as zero). UDP's
    /// computed 0 is given as 0xFFFF (RFC 768).
    public func correctL4Checksum(_ l: FrameLayout) -> UInt16 {
        var s = pseudoHeaderSum(l)
        let field = l.checksumFieldOffset
        s = InternetChecksum.add(s, InternetChecksum.sum(bytes, range: l.l4Offset..<field))
        s = InternetChecksum.blockAdd(s, InternetChecksum.sum(bytes, range: field + 2..<l.end), offset: field + 2 - l.l4Offset)
        let c = InternetChecksum.finish(s)
        return l.l4Protocol == .udp ? InternetChecksum.udpMangleZero(c) : c
    }

    /// Would a verifier accept the L4 checksum in these bytes? (Sum over pseudo-header and segment
    /// with the field in place folds to 0xFFFF; a UDP/IPv4 zero field means "no checksum".)
    public func l4ChecksumIsValid(_ l: FrameLayout) -> Bool {
        if l.l4Protocol == .udp, l.ipVersion == .v4, l4Checksum(l) == 0 { return true }
        let s = InternetChecksum.add(pseudoHeaderSum(l), InternetChecksum.sum(bytes, range: l.l4Offset..<l.end))
        return InternetChecksum.fold(s) == 0xFFFF
    }

    /// `l4Checksum`, `correctL4Checksum`, `l4ChecksumIsValid` and `partialChecksumValue` from one
    /// pass over the segment (what a recorded step shows; each of those alone sums it again).
    /// Validity is the same test: the segment's sum with the field in place folds to 0xFFFF
    /// (the sum without the field, plus the field), a UDP/IPv4 zero field meaning none.
    public func l4ChecksumFacts(_ l: FrameLayout) -> L4ChecksumFacts {
        let ph = pseudoHeaderSum(l)
        let field = l.checksumFieldOffset
        var s = InternetChecksum.add(ph, InternetChecksum.sum(bytes, range: l.l4Offset..<field))
        s = InternetChecksum.blockAdd(s, InternetChecksum.sum(bytes, range: field + 2..<l.end), offset: field + 2 - l.l4Offset)
        let value = l4Checksum(l)
        let c = InternetChecksum.finish(s)
        let valid = (l.l4Protocol == .udp && l.ipVersion == .v4 && value == 0)
            || InternetChecksum.fold(InternetChecksum.blockAdd(s, UInt32(value), offset: field - l.l4Offset)) == 0xFFFF
        return L4ChecksumFacts(field: value, correct: l.l4Protocol == .udp ? InternetChecksum.udpMangleZero(c) : c,
                               valid: valid, pseudoSum: InternetChecksum.fold(ph))
    }

    /// Does the field hold exactly the unfinished pseudo-header sum a `PARTIAL` sender writes?
    public func l4HoldsPartialSum(_ l: FrameLayout) -> Bool {
        l4Checksum(l) == partialChecksumValue(l)
    }

    /// L4 payload bytes.
    public func payload(_ l: FrameLayout) -> ArraySlice<UInt8> {
        bytes[l.payloadOffset..<l.end]
    }
}

/// A frame's L4 checksum as a step records it (`Frame.l4ChecksumFacts`).
public struct L4ChecksumFacts: Sendable, Equatable {
    /// The field now.
    public var field: UInt16
    /// The correct complete value for these bytes (`correctL4Checksum`).
    public var correct: UInt16
    /// The field verifies (`l4ChecksumIsValid`).
    public var valid: Bool
    /// The pseudo-header sum a `PARTIAL` sender leaves (`partialChecksumValue`).
    public var pseudoSum: UInt16

    public init(field: UInt16, correct: UInt16, valid: Bool, pseudoSum: UInt16) {
        self.field = field
        self.correct = correct
        self.valid = valid
        self.pseudoSum = pseudoSum
    }
}
